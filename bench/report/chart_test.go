package report

import (
	"bytes"
	"image/png"
	"testing"
)

func TestChartIsAPNG(t *testing.T) {
	var buf bytes.Buffer
	if err := Chart(&buf, fixture()); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("chart is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1920 || b.Dy() != 432 {
		t.Fatalf("chart is %dx%d, want 1920x432 (20×4.5 in at 96 dpi)", b.Dx(), b.Dy())
	}
}
