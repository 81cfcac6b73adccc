// Package traefikload loads the imgate Traefik plugin exactly the way
// Traefik v3 loads a Yaegi middleware plugin (traefik/traefik
// pkg/plugins/middlewareyaegi.go, manager.go, plugins.go), so tests and
// benchmarks exercise the interpreted plugin and not just the compiled Go:
//
//   - the plugin's sources are laid out GOPATH-style under
//     <goPath>/src/<module>, as the catalog archive or plugins-local gives them;
//   - .traefik.yml is read with yaml.v3 and checked like a local plugin;
//   - a Yaegi v0.16.1 interpreter with GoPath, Env and Stdout/Stderr, the
//     standard library symbols, then `import "<manifest import>"`;
//   - <package>.New and <package>.CreateConfig are evaluated by package name;
//   - each middleware's config map is decoded into a fresh CreateConfig()
//     result with mapstructure (WeaklyTypedInput, StringToSliceHookFunc(","));
//   - New is called through reflection with the context, next handler,
//     config and middleware name.
//
// It is test support: it imports Yaegi and is never interpreted itself.
// The provider shapes and the mapstructure decoding live in
// internal/traefikconf, which cmd/imgate uses without Yaegi.
package traefikload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/imgate/imgate/internal/traefikconf"
)

// ErrPlugin marks a plugin whose exported API is not what Traefik calls.
var ErrPlugin = errors.New("plugin API mismatch")

// Options say where the plugin comes from and where its output goes.
type Options struct {
	// RepoRoot is the module root; default: found above the working
	// directory.
	RepoRoot string
	// GoPath, when set, receives the plugin sources and is kept; default: a
	// temporary directory removed once the interpreter has read the sources.
	GoPath string
	// Stdout and Stderr are the interpreter's output, which Traefik logs at
	// DEBUG and ERROR level. Default: io.Discard. Like Traefik's loggers
	// they must not be *os.File, or Yaegi would also rebind os.Stdout.
	Stdout, Stderr io.Writer
}

// Plugin is a loaded plugin, ready to build middlewares.
type Plugin struct {
	// Manifest is the plugin's .traefik.yml.
	Manifest *Manifest

	fnNew          reflect.Value
	fnCreateConfig reflect.Value
}

// Load lays the plugin out, interprets it and looks up its API.
func Load(opts Options) (*Plugin, error) {
	root, module := opts.RepoRoot, ""
	var err error
	if root == "" {
		if root, module, err = RepoRoot(); err != nil {
			return nil, err
		}
	} else if module, err = ModulePath(root + "/go.mod"); err != nil {
		return nil, err
	}
	goPath := opts.GoPath
	if goPath == "" {
		if goPath, err = os.MkdirTemp("", "imgate-traefik-gopath-"); err != nil {
			return nil, err
		}
		// Yaegi parses every imported source during the import, so the
		// copy is not needed afterwards.
		defer os.RemoveAll(goPath)
	}
	moduleDir, err := Layout(root, module, goPath)
	if err != nil {
		return nil, err
	}
	manifest, err := ReadManifest(moduleDir + "/" + ManifestFile)
	if err != nil {
		return nil, err
	}
	if err = manifest.Check(module); err != nil {
		return nil, err
	}
	stdout, stderr := opts.Stdout, opts.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	i := interp.New(interp.Options{GoPath: goPath, Env: os.Environ(), Stdout: stdout, Stderr: stderr})
	if err = i.Use(stdlib.Symbols); err != nil {
		return nil, fmt.Errorf("loading symbols: %w", err)
	}
	if _, err = i.Eval(fmt.Sprintf(`import "%s"`, manifest.Import)); err != nil {
		return nil, fmt.Errorf("importing plugin code %q: %w", manifest.Import, err)
	}
	pkg := manifest.PackageName()
	p := &Plugin{Manifest: manifest}
	if p.fnNew, err = i.Eval(pkg + `.New`); err != nil {
		return nil, fmt.Errorf("evaluating New: %w", err)
	}
	if p.fnCreateConfig, err = i.Eval(pkg + `.CreateConfig`); err != nil {
		return nil, fmt.Errorf("evaluating CreateConfig: %w", err)
	}
	return p, nil
}

// CreateConfig calls the plugin's CreateConfig and decodes config into the
// result as Traefik does for each middleware definition; an empty config
// leaves CreateConfig's result untouched, as in Traefik.
func (p *Plugin) CreateConfig(config map[string]any) (reflect.Value, error) {
	results := p.fnCreateConfig.Call(nil)
	if len(results) != 1 {
		return reflect.Value{}, fmt.Errorf("CreateConfig returns %d values: %w", len(results), ErrPlugin)
	}
	cfg := results[0]
	if len(config) == 0 {
		return cfg, nil
	}
	if err := traefikconf.Decode(config, cfg.Interface()); err != nil {
		return reflect.Value{}, err
	}
	return cfg, nil
}

// NewHandler calls the plugin's New through reflection, as Traefik does for
// each router using the middleware.
func (p *Plugin) NewHandler(ctx context.Context, next http.Handler, cfg reflect.Value, name string) (http.Handler, error) {
	args := []reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(next), cfg, reflect.ValueOf(name)}
	results := p.fnNew.Call(args)
	if len(results) != 2 {
		return nil, fmt.Errorf("the plugin's New returns %d values: %w", len(results), ErrPlugin)
	}
	if results[1].Interface() != nil {
		err, ok := results[1].Interface().(error)
		if !ok {
			return nil, fmt.Errorf("the plugin's New returns no error value: %w", ErrPlugin)
		}
		return nil, err
	}
	handler, ok := results[0].Interface().(http.Handler)
	if !ok {
		return nil, fmt.Errorf("the plugin's New returns no http.Handler: %w", ErrPlugin)
	}
	return handler, nil
}

// New decodes config and builds the middleware named name in front of next.
func (p *Plugin) New(ctx context.Context, next http.Handler, config map[string]any, name string) (http.Handler, error) {
	cfg, err := p.CreateConfig(config)
	if err != nil {
		return nil, err
	}
	return p.NewHandler(ctx, next, cfg, name)
}
