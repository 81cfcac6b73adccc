package traefikload

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrManifest marks a .traefik.yml that Traefik would refuse.
var ErrManifest = errors.New("invalid plugin manifest")

// ManifestFile is the manifest's name at the module root.
const ManifestFile = ".traefik.yml"

// Manifest is the part of Traefik's plugin manifest (traefik/traefik
// pkg/plugins/types.go Manifest) that loading a Yaegi middleware uses.
type Manifest struct {
	DisplayName string         `yaml:"displayName"`
	Type        string         `yaml:"type"`
	Runtime     string         `yaml:"runtime"`
	Import      string         `yaml:"import"`
	BasePkg     string         `yaml:"basePkg"`
	Summary     string         `yaml:"summary"`
	UseUnsafe   bool           `yaml:"useUnsafe"`
	TestData    map[string]any `yaml:"testData"`
}

// ReadManifest decodes a manifest file with gopkg.in/yaml.v3, as Traefik's
// ReadManifest does.
func ReadManifest(file string) (*Manifest, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("opening the plugin manifest: %w", err)
	}
	defer f.Close()
	m := &Manifest{}
	if err := yaml.NewDecoder(f).Decode(m); err != nil {
		return nil, fmt.Errorf("decoding the plugin manifest %s: %w", file, err)
	}
	return m, nil
}

// Check applies the checks Traefik makes on a local plugin's manifest
// (pkg/plugins/plugins.go checkLocalPluginManifest) for a Yaegi middleware
// of module moduleName, and refuses useUnsafe, which Traefik only grants
// when the operator opts in.
func (m *Manifest) Check(moduleName string) error {
	var problems []string
	if m.Type != "middleware" {
		problems = append(problems, fmt.Sprintf("type %q is not middleware", m.Type))
	}
	if m.Runtime != "" && m.Runtime != "yaegi" {
		problems = append(problems, fmt.Sprintf("runtime %q is not yaegi", m.Runtime))
	}
	if m.Import == "" {
		problems = append(problems, "missing import")
	}
	if !strings.HasPrefix(m.Import, moduleName) {
		problems = append(problems, fmt.Sprintf("the import %q must be related to the module name %q", m.Import, moduleName))
	}
	if m.DisplayName == "" {
		problems = append(problems, "missing displayName")
	}
	if m.Summary == "" {
		problems = append(problems, "missing summary")
	}
	if m.TestData == nil {
		problems = append(problems, "missing testData")
	}
	if m.UseUnsafe {
		problems = append(problems, "useUnsafe needs the operator's opt-in")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s: %w", moduleName, strings.Join(problems, "; "), ErrManifest)
	}
	return nil
}

// PackageName is the package Traefik evaluates New and CreateConfig in:
// basePkg, or the import path's last element with "-" turned into "_"
// (pkg/plugins/middlewareyaegi.go newYaegiMiddlewareBuilder).
func (m *Manifest) PackageName() string {
	if m.BasePkg != "" {
		return m.BasePkg
	}
	return strings.ReplaceAll(path.Base(m.Import), "-", "_")
}
