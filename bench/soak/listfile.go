package soak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Probes is how many probe users the list file carries: version v lists
// probe-j exactly when bit j of v is set, so probe-0's membership flips
// with every version, probe-1's every second one, and so on. A reply
// about probe-j therefore tells which versions could have produced it.
const Probes = 4

// ProbeUser is the id of probe j.
func ProbeUser(j int) string { return "probe-" + strconv.Itoa(j) }

// Listed reports whether version v of the list holds probe j.
func Listed(v, j int) bool { return v>>uint(j)&1 == 1 }

// ListContent is version v of the list file. A comment names the
// version, and the file's size changes with it, so that a reload is
// never missed for an equal size within one modification-time tick.
func ListContent(v int) []byte {
	var b strings.Builder
	b.WriteString("# soak list version " + strconv.Itoa(v) + "\n")
	for j := 0; j < Probes; j++ {
		if Listed(v, j) {
			b.WriteString(ProbeUser(j) + "\n")
		}
	}
	b.WriteString(strings.Repeat("#", v%7) + "\n")
	return []byte(b.String())
}

// ListFile is the list file rewritten under load, with the timeline of
// its versions.
type ListFile struct {
	Path     string
	Timeline Timeline
	version  int
}

// NewListFile writes version 0 of the list at path.
func NewListFile(path string) (*ListFile, error) {
	f := &ListFile{Path: path}
	if err := f.write(0); err != nil {
		return nil, err
	}
	return f, nil
}

// write replaces the file with version v atomically (a temporary file
// renamed over it: a reload never reads half a file) and records the
// change: it begins when the write starts and ends once the rename is
// done.
func (f *ListFile) write(v int) error {
	begin := time.Now()
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".soak-list-*")
	if err != nil {
		return fmt.Errorf("list file: %w", err)
	}
	_, werr := tmp.Write(ListContent(v))
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("list file: %v %v", werr, cerr)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("list file: %w", err)
	}
	f.Timeline.Set(v, begin, time.Now())
	f.version = v
	return nil
}

// Rewrite writes the next version every period until ctx ends and
// returns how many versions it wrote.
func (f *ListFile) Rewrite(ctx context.Context, period time.Duration) (int, error) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	written := 0
	for {
		select {
		case <-ctx.Done():
			return written, nil
		case <-tick.C:
		}
		if err := f.write(f.version + 1); err != nil {
			return written, err
		}
		written++
	}
}
