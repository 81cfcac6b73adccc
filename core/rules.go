package core

import (
	"fmt"
	"regexp"
	"strings"
)

// rule is the compiled form of a RuleConfig.
type rule struct {
	name        string
	events      *idSet
	tencent     bool // platforms: applies to Tencent
	openim      bool // platforms: applies to OpenIM
	groups      *idMatcher
	groupTypes  map[string]struct{}
	actors      *idMatcher
	members     *idMatcher
	text        *regexp.Regexp
	maxMembers  int
	rate        *limiter
	rateByGroup bool
	action      string
	message     string
	shadow      bool
	tencentCode int
	openimCode  int
}

// ShadowHit records what a shadow rule would have done.
type ShadowHit struct {
	Rule   string
	Action string
}

func compileRules(cfgs []RuleConfig, lists map[string]*List, s *settings) ([]*rule, error) {
	rules := make([]*rule, 0, len(cfgs))
	seen := map[string]bool{}
	for i := range cfgs {
		r, err := compileRule(i, &cfgs[i], lists, s)
		if err != nil {
			return nil, err
		}
		if r.name == RuleDefault || r.name == RuleUpstream {
			return nil, configErr(fmt.Sprintf("rules[%d].name", i), "%q is reserved: decisions without a rule are reported under it", r.name)
		}
		if seen[r.name] {
			return nil, configErr(fmt.Sprintf("rules[%d].name", i), "%q is used by an earlier rule", r.name)
		}
		seen[r.name] = true
		rules = append(rules, r)
	}
	return rules, nil
}

func compileRule(i int, c *RuleConfig, lists map[string]*List, s *settings) (*rule, error) {
	key := fmt.Sprintf("rules[%d]", i)
	r := &rule{name: strings.TrimSpace(c.Name), shadow: c.Shadow, message: c.Message, maxMembers: c.MaxMembers}
	if r.name == "" {
		r.name = fmt.Sprintf("rule%d", i+1)
	} else {
		key = fmt.Sprintf("rules[%d] (%s)", i, r.name)
	}
	var err error
	if c.Action == "" {
		return nil, configErr(key+".action", "missing; use allow, deny or forward")
	}
	if r.action, err = oneOf(key+".action", c.Action, "", ActionAllow, ActionDeny, ActionForward); err != nil {
		return nil, err
	}
	r.events = newIDSet(trimAll(c.Events))
	r.tencent, r.openim = len(c.Platforms) == 0, len(c.Platforms) == 0
	for _, p := range c.Platforms {
		switch strings.ToLower(strings.TrimSpace(p)) {
		case PlatformTencent:
			r.tencent = true
		case PlatformOpenIM:
			r.openim = true
		default:
			return nil, configErr(key+".platforms", "%q is not tencent or openim", p)
		}
	}
	// A route fixed to one platform validates and indexes its rules for
	// that platform only: `code 5001` is right on an OpenIM-only route.
	if s.platform == PlatformTencent {
		r.openim = false
	} else if s.platform == PlatformOpenIM {
		r.tencent = false
	}
	if !r.tencent && !r.openim {
		return nil, configErr(key+".platforms", "the rule names only %s, which this route (platform %s) never answers", strings.Join(c.Platforms, ", "), s.platform)
	}
	if r.groups, err = compileIDs(key+".groups", c.Groups, lists); err != nil {
		return nil, err
	}
	if r.actors, err = compileIDs(key+".actors", c.Actors, lists); err != nil {
		return nil, err
	}
	if r.members, err = compileIDs(key+".members", c.Members, lists); err != nil {
		return nil, err
	}
	if len(c.GroupTypes) > 0 {
		r.groupTypes = map[string]struct{}{}
		for _, t := range c.GroupTypes {
			r.groupTypes[strings.ToLower(strings.TrimSpace(t))] = struct{}{}
		}
	}
	if c.Text != "" {
		if r.text, err = regexp.Compile(c.Text); err != nil {
			return nil, configErr(key+".text", "%q is not a regular expression: %s", c.Text, err.Error())
		}
	}
	if c.MaxMembers < 0 {
		return nil, configErr(key+".maxMembers", "%d is negative", c.MaxMembers)
	}
	if c.Rate != "" {
		n, per, rerr := parseRate(key+".rate", c.Rate)
		if rerr != nil {
			return nil, rerr
		}
		r.rate = newLimiter(n, per, s.rateMaxKeys)
	}
	by, err := oneOf(key+".rateBy", c.RateBy, "actor", "actor", "group")
	if err != nil {
		return nil, err
	}
	r.rateByGroup = by == "group"
	if err = r.setCodes(key, c); err != nil {
		return nil, err
	}
	return r, nil
}

// setCodes validates the deny code against every platform the rule can apply to.
func (r *rule) setCodes(key string, c *RuleConfig) error {
	r.tencentCode, r.openimCode = DefaultTencentDenyCode, DefaultOpenIMDenyCode
	if c.Code == 0 {
		return nil
	}
	if r.action != ActionDeny {
		return configErr(key+".code", "only a deny rule takes a code")
	}
	if r.tencent {
		if !validTencentCode(c.Code) {
			return configErr(key+".code", "%d is not a Tencent reject code (1 or 10100-10200); limit the rule with platforms: [openim] or pick another code", c.Code)
		}
		r.tencentCode = c.Code
	}
	if r.openim {
		if !validOpenIMCode(c.Code) {
			return configErr(key+".code", "%d is not an OpenIM errCode (5000-9999); limit the rule with platforms: [tencent] or pick another code", c.Code)
		}
		r.openimCode = c.Code
	}
	return nil
}

func trimAll(values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// compileIDs returns nil when the condition is not set.
func compileIDs(key string, values []string, lists map[string]*List) (*idMatcher, error) {
	values = trimAll(values)
	if len(values) == 0 {
		return nil, nil
	}
	m := &idMatcher{inline: newIDSet(nil)}
	for _, v := range values {
		// "@name" names a list, but Tencent's generated group ids start
		// with "@TGS#" and are ids.
		if strings.HasPrefix(v, "@") && !strings.HasPrefix(v, "@TGS#") {
			l, ok := lists[v[1:]]
			if !ok {
				return nil, configErr(key, "list %q is not defined under lists", v[1:])
			}
			m.lists = append(m.lists, l)
			continue
		}
		m.inline.add(v)
	}
	return m, nil
}

// candidates holds, per platform and normalized event, the rules whose
// platforms and events conditions admit that event, in rule order. The
// event names are a closed set (the command tables plus "unknown"), so the
// event globs are matched once at load time instead of on every callback.
type candidates struct {
	tencent map[string][]*rule
	openim  map[string][]*rule
}

// eventNames returns every normalized event name imgate can produce.
func eventNames() []string {
	seen := map[string]bool{EventUnknown: true}
	names := []string{EventUnknown}
	for _, c := range tencentCommands {
		if !seen[c.event] {
			seen[c.event] = true
			names = append(names, c.event)
		}
	}
	for _, c := range openimCommands {
		if !seen[c.event] {
			seen[c.event] = true
			names = append(names, c.event)
		}
	}
	return names
}

// indexRules builds the candidates and rejects event patterns that match
// no event, which are typos ("group.join.aply") that would never fire.
func indexRules(rules []*rule, cfgs []RuleConfig) (candidates, error) {
	idx := candidates{tencent: map[string][]*rule{}, openim: map[string][]*rule{}}
	names := eventNames()
	for i, r := range rules {
		for _, pattern := range trimAll(cfgs[i].Events) {
			p := newIDSet([]string{pattern})
			hit := false
			for _, name := range names {
				if setMatch(p, name) {
					hit = true
					break
				}
			}
			if !hit {
				return idx, configErr(fmt.Sprintf("rules[%d] (%s).events", i, r.name), "%q matches no event imgate knows (see the event table in the README)", pattern)
			}
		}
		for _, name := range names {
			if r.events.size() > 0 && !setMatch(r.events, name) {
				continue
			}
			if r.tencent {
				idx.tencent[name] = append(idx.tencent[name], r)
			}
			if r.openim {
				idx.openim[name] = append(idx.openim[name], r)
			}
		}
	}
	return idx, nil
}

// ruleMatch reports whether the rule's remaining conditions hold for ev
// (platform and event were settled by the candidates index). For a members
// condition it also returns the matching members. The rate condition is
// checked last so that a token is only taken when everything else matched.
func ruleMatch(r *rule, ev *Event, now int64) (bool, []string) {
	if r.groupTypes != nil {
		if _, ok := r.groupTypes[strings.ToLower(ev.GroupType)]; !ok {
			return false, nil
		}
	}
	if r.groups != nil && !matchID(r.groups, ev.GroupID) {
		return false, nil
	}
	if r.actors != nil && !matchID(r.actors, ev.Actor) {
		return false, nil
	}
	if r.maxMembers > 0 && len(ev.Members) <= r.maxMembers {
		return false, nil
	}
	if r.text != nil && !r.text.MatchString(ev.Text) {
		return false, nil
	}
	var matched []string
	if r.members != nil {
		for _, m := range ev.Members {
			if matchID(r.members, m) {
				matched = append(matched, m)
			}
		}
		if len(matched) == 0 {
			return false, nil
		}
	}
	if r.rate != nil {
		key := ev.Actor
		if r.rateByGroup {
			key = ev.GroupID
		}
		if !r.rate.exceeded(ev.Platform+"\x00"+key, now) {
			return false, nil
		}
	}
	return true, matched
}
