package soak

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// members parses a list file as imgate does: one id per line, # comments.
func members(data []byte) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out[line] = true
		}
	}
	return out
}

func TestListContent(t *testing.T) {
	for v := 0; v < 20; v++ {
		got := members(ListContent(v))
		for j := 0; j < Probes; j++ {
			if got[ProbeUser(j)] != Listed(v, j) {
				t.Errorf("version %d: %s listed %v", v, ProbeUser(j), got[ProbeUser(j)])
			}
		}
		if len(ListContent(v)) == len(ListContent(v+1)) {
			t.Errorf("versions %d and %d have the same size", v, v+1)
		}
	}
	// Consecutive versions always differ for probe 0.
	if Listed(6, 0) == Listed(7, 0) {
		t.Error("probe 0 did not flip")
	}
}

func TestListFileRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "probe.txt")
	f, err := NewListFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	n, err := f.Rewrite(ctx, 20*time.Millisecond)
	if err != nil || n < 2 {
		t.Fatalf("Rewrite wrote %d versions, %v", n, err)
	}
	if f.Timeline.Len() != n+1 {
		t.Errorf("timeline has %d changes, want %d", f.Timeline.Len(), n+1)
	}
	data, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(data, ListContent(n)) {
		t.Errorf("file holds %q, want version %d", data, n)
	}
	if got := f.Timeline.InForce(time.Now(), time.Now()); len(got) != 1 || got[0] != n {
		t.Errorf("in force now: %v, want [%d]", got, n)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".soak-list-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}
