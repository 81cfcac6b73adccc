package traefikreal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// markerPrefix is the path of the marker router Apply adds to every
// dynamic configuration: GET <prefix><generation> answers 418 (Traefik's
// noop@internal service) once that generation is live on the entry point.
const markerPrefix = "/.traefikreal/generation/"

// Apply writes dynamic (the file provider's YAML shape: "http" with
// "routers", "middlewares", "services") to the watched file, atomically,
// and waits until Traefik serves it. It fails with Traefik's own messages
// when a router, middleware or service of the file is in error (a plugin's
// New refused its config, a decoding error...), or when Traefik logged a
// plugin failure. Traefik keeps the previous routers of a file it cannot
// parse, so a file Traefik refuses to read times out here.
func (tr *Traefik) Apply(dynamic map[string]any, timeout time.Duration) error {
	from := tr.log.Len()
	gen, err := tr.write(dynamic)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := tr.waitLive(ctx, gen, from); err != nil {
		return err
	}
	return tr.problems(from)
}

// ApplyRaw writes content to the watched file as is (e.g. a torn or
// invalid file, to see what Traefik does with it) and returns at once.
func (tr *Traefik) ApplyRaw(content []byte) error {
	return writeAtomic(filepath.Join(tr.Dir, "dynamic.yml"), content)
}

// write adds the next generation's marker router and writes the file.
func (tr *Traefik) write(dynamic map[string]any) (int, error) {
	tr.mu.Lock()
	tr.generation++
	gen := tr.generation
	tr.mu.Unlock()
	return gen, tr.writeGeneration(dynamic, gen)
}

func (tr *Traefik) writeDynamic(dynamic map[string]any) error {
	return tr.writeGeneration(dynamic, 0)
}

func (tr *Traefik) writeGeneration(dynamic map[string]any, gen int) error {
	withMarker, err := addMarker(dynamic, gen)
	if err != nil {
		return err
	}
	data, err := yaml.Marshal(withMarker)
	if err != nil {
		return fmt.Errorf("encoding the dynamic configuration: %w", err)
	}
	return writeAtomic(filepath.Join(tr.Dir, "dynamic.yml"), data)
}

// addMarker returns a copy of dynamic with the marker router of gen; the
// caller's maps are not changed.
func addMarker(dynamic map[string]any, gen int) (map[string]any, error) {
	out, _ := copyMap(dynamic, "")
	httpSection, err := copyMap(dynamic["http"], "http")
	if err != nil {
		return nil, err
	}
	routers, err := copyMap(httpSection["routers"], "http.routers")
	if err != nil {
		return nil, err
	}
	routers[markerRouter(gen)] = map[string]any{
		"entryPoints": []any{EntryPoint},
		"rule":        "Path(`" + markerPrefix + strconv.Itoa(gen) + "`)",
		"service":     "noop@internal",
	}
	httpSection["routers"] = routers
	out["http"] = httpSection
	return out, nil
}

// copyMap returns a shallow copy of v, a map or nil; path names v in the
// error when it is something else.
func copyMap(v any, path string) (map[string]any, error) {
	out := map[string]any{}
	if v == nil {
		return out, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("dynamic configuration: %s is %T, not a map: %w", path, v, ErrTraefik)
	}
	for k, item := range m {
		out[k] = item
	}
	return out, nil
}

func markerRouter(gen int) string { return "traefikreal-generation-" + strconv.Itoa(gen) }

// writeAtomic replaces file by a complete new one (write, then rename), so
// the watcher never reads half a file.
func writeAtomic(file string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".dynamic-*.tmp")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// waitLive waits until the marker of gen answers on the entry point, or
// Traefik exits, or logs a plugin failure after line from, or ctx ends.
func (tr *Traefik) waitLive(ctx context.Context, gen, from int) error {
	url := tr.URL + markerPrefix + strconv.Itoa(gen)
	for {
		if tr.Exited() {
			return fmt.Errorf("traefik exited (%v) before generation %d was live:%s: %w", tr.waitErr, gen, tr.errorLines(), ErrTraefik)
		}
		if line, ok := tr.log.pluginFailure(from); ok {
			return fmt.Errorf("traefik refused a plugin: %s: %w", line, ErrTraefik)
		}
		if resp, err := tr.client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusTeapot {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("generation %d of the dynamic configuration not live: %s; traefik's output ends:%s: %w", gen, ctx.Err().Error(), tr.tail(), ErrTraefik)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// runtimeItem is a router, middleware or service in /api/rawdata.
type runtimeItem struct {
	Status string   `json:"status"`
	Err    []string `json:"error"`
}

// Problems returns an error naming every router, middleware and service
// that Traefik's API reports as not enabled or with errors, and the first
// plugin failure in Traefik's log since it started; nil when all is well.
func (tr *Traefik) Problems() error { return tr.problems(0) }

// problems is Problems looking at the log from line from on.
func (tr *Traefik) problems(from int) error {
	resp, err := tr.client.Get(tr.APIURL + "/api/rawdata")
	if err != nil {
		return fmt.Errorf("reading traefik's runtime configuration: %s: %w", err.Error(), ErrTraefik)
	}
	defer resp.Body.Close()
	var raw map[string]map[string]runtimeItem
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		return fmt.Errorf("decoding /api/rawdata: %s: %w", err.Error(), ErrTraefik)
	}
	var problems []string
	for _, kind := range []string{"routers", "middlewares", "services"} {
		for name, item := range raw[kind] {
			if item.Status != "enabled" || len(item.Err) > 0 {
				problems = append(problems, fmt.Sprintf("%s %s: %s %s", kind, name, item.Status, strings.Join(item.Err, "; ")))
			}
		}
	}
	if line, ok := tr.log.pluginFailure(from); ok {
		problems = append(problems, "log: "+line)
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("traefik reports %d problems:\n  %s: %w", len(problems), strings.Join(problems, "\n  "), ErrTraefik)
}
