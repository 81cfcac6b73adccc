package core

import "strings"

// glob matches ids against a pattern where "*" stands for any run of
// characters. The common shapes (exact, prefix*, *suffix, *infix*) use
// strings functions, which stay compiled under Yaegi.
type glob struct {
	pattern string
	parts   []string
}

func newGlob(pattern string) glob {
	return glob{pattern: pattern, parts: strings.Split(pattern, "*")}
}

func (g glob) match(s string) bool {
	parts := g.parts
	if len(parts) == 1 {
		return s == g.pattern
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// idSet holds exact ids in a map and globs in a slice.
type idSet struct {
	exact map[string]struct{}
	globs []glob
}

func newIDSet(values []string) *idSet {
	s := &idSet{exact: make(map[string]struct{}, len(values))}
	for _, v := range values {
		s.add(v)
	}
	return s
}

func (s *idSet) add(v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	if strings.Contains(v, "*") {
		s.globs = append(s.globs, newGlob(v))
		return
	}
	s.exact[v] = struct{}{}
}

func (s *idSet) match(id string) bool {
	if _, ok := s.exact[id]; ok {
		return true
	}
	for _, g := range s.globs {
		if g.match(id) {
			return true
		}
	}
	return false
}

func (s *idSet) size() int { return len(s.exact) + len(s.globs) }

// idMatcher is a rule condition over ids: inline ids and globs plus
// references to named lists ("@name").
type idMatcher struct {
	inline *idSet
	lists  []*List
}

func (m *idMatcher) match(id string) bool {
	if id == "" {
		return false
	}
	if m.inline.match(id) {
		return true
	}
	for _, l := range m.lists {
		if l.Contains(id) {
			return true
		}
	}
	return false
}
