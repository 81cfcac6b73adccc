package yaegicheck

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// errTypeCheck marks a package that does not compile as Yaegi loads it,
// which is itself a failure under Traefik.
var errTypeCheck = errors.New("does not type-check as Yaegi loads it")

// sourceFile is one parsed file Yaegi loads.
type sourceFile struct {
	name string // base name
	src  []byte
	ast  *ast.File
	test bool // a _test.go file
}

// unit is one type-checked package: a package with its in-package test
// files, or its external test package.
type unit struct {
	pkg   *types.Package
	info  *types.Info
	files []*sourceFile
}

// loader type-checks the packages of one module from source, with Yaegi's
// file selection, and the standard library from export data. It serves one
// Check: the package under test, with its test files, stands in for its
// import path everywhere, as in `go test`.
type loader struct {
	fset    *token.FileSet
	modRoot string // directory holding go.mod; "" outside a module
	modPath string
	pkgs    map[string]*types.Package // module packages by import path
	loading map[string]bool
	funcs   map[token.Pos]*ast.FuncDecl // every parsed function, by name position
	source  map[*types.Package]bool     // packages type-checked from source
}

func newLoader(dir string) (*loader, error) {
	l := &loader{
		fset:    token.NewFileSet(),
		pkgs:    map[string]*types.Package{},
		loading: map[string]bool{},
		funcs:   map[token.Pos]*ast.FuncDecl{},
		source:  map[*types.Package]bool{},
	}
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			l.modRoot, l.modPath = d, modulePath(data)
			if l.modPath == "" {
				return nil, fmt.Errorf("%s/go.mod has no module line", d)
			}
			return l, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read go.mod: %w", err)
		}
		if filepath.Dir(d) == d {
			return l, nil
		}
	}
}

// modulePath returns the path on the module line of a go.mod file.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "module" {
			if p, err := strconv.Unquote(fields[1]); err == nil {
				return p
			}
			return fields[1]
		}
	}
	return ""
}

// importPath returns the import path of the package in dir.
func (l *loader) importPath(dir string) string {
	if l.modRoot == "" {
		return filepath.Base(dir)
	}
	rel, err := filepath.Rel(l.modRoot, dir)
	if err != nil || rel == "." {
		return l.modPath
	}
	return l.modPath + "/" + filepath.ToSlash(rel)
}

func (l *loader) inModule(path string) bool {
	return l.modPath != "" && (path == l.modPath || strings.HasPrefix(path, l.modPath+"/"))
}

// Import implements types.Importer.
func (l *loader) Import(path string) (*types.Package, error) {
	if p, ok := l.pkgs[path]; ok {
		return p, nil
	}
	if !l.inModule(path) {
		return std.Import(path)
	}
	if l.loading[path] {
		return nil, fmt.Errorf("import cycle through %s", path)
	}
	l.loading[path] = true
	defer delete(l.loading, path)
	dir := filepath.Join(l.modRoot, filepath.FromSlash(strings.TrimPrefix(path, l.modPath)))
	files, err := l.parseDir(dir)
	if err != nil {
		return nil, err
	}
	var lib []*sourceFile
	for _, f := range files {
		if !f.test {
			lib = append(lib, f)
		}
	}
	u, err := l.check(path, lib)
	if err != nil {
		return nil, err
	}
	l.pkgs[path] = u.pkg
	return u.pkg, nil
}

// parseDir parses the files of dir Yaegi loads.
func (l *loader) parseDir(dir string) ([]*sourceFile, error) {
	names, err := Files(dir)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no Go files Yaegi loads", dir)
	}
	var files []*sourceFile
	for _, name := range names {
		path := filepath.Join(dir, name)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		f, err := parser.ParseFile(l.fset, path, src, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse: %w", err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				l.funcs[fd.Name.Pos()] = fd
			}
		}
		files = append(files, &sourceFile{name: name, src: src, ast: f, test: strings.HasSuffix(name, "_test.go")})
	}
	return files, nil
}

// check type-checks files as the package path.
func (l *loader) check(path string, files []*sourceFile) (*unit, error) {
	var imports []string
	asts := make([]*ast.File, len(files))
	for i, f := range files {
		asts[i] = f.ast
		for _, spec := range f.ast.Imports {
			if p, err := strconv.Unquote(spec.Path.Value); err == nil && !l.inModule(p) {
				imports = append(imports, p)
			}
		}
	}
	if err := std.prefetch(imports); err != nil {
		return nil, err
	}
	var errs []error
	conf := types.Config{
		Importer: l,
		Error: func(err error) {
			if len(errs) < 10 {
				errs = append(errs, err)
			}
		},
	}
	info := &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Defs:       map[*ast.Ident]types.Object{},
		Uses:       map[*ast.Ident]types.Object{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
		Instances:  map[*ast.Ident]types.Instance{},
	}
	pkg, _ := conf.Check(path, l.fset, asts, info)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s %w: %w", path, errTypeCheck, errors.Join(errs...))
	}
	l.source[pkg] = true
	return &unit{pkg: pkg, info: info, files: files}, nil
}

// load type-checks files, the parsed package in dir, and its external test
// package, if any, as `yaegi test` loads them.
func (l *loader) load(dir string, files []*sourceFile) ([]*unit, error) {
	var inPkg, external []*sourceFile
	for _, f := range files {
		if f.test && strings.HasSuffix(f.ast.Name.Name, "_test") {
			external = append(external, f)
		} else {
			inPkg = append(inPkg, f)
		}
	}
	if len(inPkg) == 0 {
		return nil, fmt.Errorf("%s: only external test files", dir)
	}
	path := l.importPath(dir)
	u, err := l.check(path, inPkg)
	if err != nil {
		return nil, err
	}
	l.pkgs[path] = u.pkg
	units := []*unit{u}
	if len(external) > 0 {
		x, err := l.check(path+"_test", external)
		if err != nil {
			return nil, err
		}
		units = append(units, x)
	}
	return units, nil
}
