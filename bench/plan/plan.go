// Package plan reads the benchmark's workload plans (bench/workloads/*.plan):
// the callbacks every load generator sends (wrk through
// bench/lua/callbacks.lua, the open-loop client bench/openloop) and that the
// runner checks every setup's replies against.
package plan

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Request is one callback of a workload plan.
type Request struct {
	// Target is the path and query, with {requestTime} and {sign} unfilled.
	Target string
	// BodyFile is the body's file name in bodies/ next to the plan.
	BodyFile string
	Body     []byte
}

// Sign fills the Tencent authentication placeholders as the Lua script does.
func (r Request) Sign(requestTime, sign string) string {
	return strings.NewReplacer("{requestTime}", requestTime, "{sign}", sign).Replace(r.Target)
}

// Path is the plan file of workload id in the repository at repo.
func Path(repo, id string) string {
	return filepath.Join(repo, "bench", "workloads", id+".plan")
}

// Read parses a plan file with the same rules as callbacks.lua: blank
// lines and lines starting with # are skipped, every other line is
// "<target> <body file>".
func Read(path string) ([]Request, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Request
	bodies := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 || !strings.HasPrefix(fields[0], "/") {
			return nil, fmt.Errorf("%s:%d: want \"<path?query> <body file>\", got %q", path, n, line)
		}
		body, ok := bodies[fields[1]]
		if !ok {
			body, err = os.ReadFile(filepath.Join(filepath.Dir(path), "bodies", fields[1]))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
			bodies[fields[1]] = body
		}
		out = append(out, Request{Target: fields[0], BodyFile: fields[1], Body: body})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no requests", path)
	}
	return out, nil
}
