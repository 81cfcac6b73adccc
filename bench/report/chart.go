package report

import (
	"fmt"
	"image/color"
	"io"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// setupColors keep a setup's colour the same in every panel, by position
// in the run's setup list (A, B, C, ...).
var setupColors = []color.Color{
	color.RGBA{R: 0x44, G: 0x44, B: 0x44, A: 0xff}, // A bare net/http
	color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}, // B caddy respond
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // C caddy+imgate
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // D status quo
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // E imgate forwarding
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // F net/http + engine
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff},
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
}

// Chart draws four panels (throughput, p50, p99, server CPU per request)
// of the closed-loop runs as grouped bars, one group per workload and one bar per setup, and
// writes them as PNG.
func Chart(w io.Writer, r *Results) error {
	sums := Summarize(r.Runs)
	panels := []struct {
		title, unit string
		value       func(Summary) float64
	}{
		{"Throughput (higher is better)", "requests/s", func(s Summary) float64 { return s.RPS }},
		{"p50 latency (lower is better)", "ms", func(s Summary) float64 { return float64(s.P50) / float64(time.Millisecond) }},
		{"Closed-loop p99: queueing at saturation", "ms", func(s Summary) float64 { return float64(s.P99) / float64(time.Millisecond) }},
		{"Server CPU per request (lower is better)", "µs", func(s Summary) float64 { return s.CPU }},
	}
	names := make([]string, len(r.Workloads))
	for i, wl := range r.Workloads {
		names[i] = wl.ID
	}
	row := make([]*plot.Plot, 0, len(panels))
	barWidth := vg.Points(10)
	for _, panel := range panels {
		p := plot.New()
		p.Title.Text = panel.title
		p.Y.Label.Text = panel.unit
		p.Y.Min = 0
		p.Legend.Top = true
		p.Legend.Left = true
		ymax := 0.0
		for i, s := range r.Setups {
			values := make(plotter.Values, len(r.Workloads))
			for j, wl := range r.Workloads {
				values[j] = panel.value(sums[s.ID][wl.ID])
				if values[j] > ymax {
					ymax = values[j]
				}
			}
			bars, err := plotter.NewBarChart(values, barWidth)
			if err != nil {
				return fmt.Errorf("chart %s, setup %s: %w", panel.title, s.ID, err)
			}
			bars.LineStyle.Width = 0
			bars.Color = setupColors[i%len(setupColors)]
			bars.Offset = barWidth * vg.Length(2*i-len(r.Setups)+1) / 2
			p.Add(bars)
			p.Legend.Add(s.ID, bars)
		}
		p.NominalX(names...)
		// Room above the tallest bar for the legend.
		p.Y.Max = ymax * 1.35
		row = append(row, p)
	}
	const width, height = 20 * vg.Inch, 4.5 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(row), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, dc)
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}
