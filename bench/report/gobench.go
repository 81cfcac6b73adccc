package report

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// GoBench is one `go test -bench -benchmem` result line.
type GoBench struct {
	// Package is the import path from the preceding "pkg:" line.
	Package string `json:"package"`
	// Name is the benchmark name without the -GOMAXPROCS suffix.
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"nsPerOp"`
	BytesPerOp  float64 `json:"bytesPerOp"`
	AllocsPerOp float64 `json:"allocsPerOp"`
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// ParseGoBench reads every benchmark line of `go test -bench` output.
func ParseGoBench(output string) ([]GoBench, error) {
	var out []GoBench
	pkg := ""
	for _, line := range strings.Split(output, "\n") {
		line = strings.TrimSpace(line)
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		b := GoBench{Package: pkg, Name: m[1], NsPerOp: -1, BytesPerOp: -1, AllocsPerOp: -1}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: value %q: %w", line, fields[i], err)
			}
			switch fields[i+1] {
			case "ns/op":
				b.NsPerOp = v
			case "B/op":
				b.BytesPerOp = v
			case "allocs/op":
				b.AllocsPerOp = v
			}
		}
		if b.NsPerOp < 0 {
			return nil, fmt.Errorf("benchmark line %q has no ns/op", line)
		}
		out = append(out, b)
	}
	return out, nil
}
