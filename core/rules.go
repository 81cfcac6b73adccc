package core

import (
	"fmt"
	"regexp"
	"strings"
)

// rule is the compiled form of a RuleConfig.
type rule struct {
	name   string
	events *idSet
	// on, codes and messages are indexed by platform.index: whether the
	// rule applies to the platform, and its deny code and message there.
	on       []bool
	codes    []int
	messages []string
	// denyReplies are the rule's deny replies by platform index, encoded
	// once at load time (denyReplyOf) rather than on every denial.
	denyReplies [][]byte
	groups      *idMatcher
	groupTypes  map[string]struct{}
	actors      *idMatcher
	members     *idMatcher
	text        *regexp.Regexp
	maxMembers  int
	rate        *limiter
	rateByGroup bool
	action      string
	shadow      bool
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
	r := &rule{name: strings.TrimSpace(c.Name), shadow: c.Shadow, maxMembers: c.MaxMembers}
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
	if err = r.setPlatforms(key, c.Platforms, s); err != nil {
		return nil, err
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
		n, per, rerr := ParseRate(c.Rate)
		if rerr != nil {
			return nil, fmt.Errorf("%s.rate: %w", key, rerr)
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
	r.denyReplies = make([][]byte, len(platforms))
	for _, p := range platforms {
		r.denyReplies[p.index] = denyReplyOf(p, r.codes[p.index], r.messages[p.index])
	}
	return r, nil
}

// denyReplyOf encodes a platform's deny reply with a code and message. A
// deny reply depends on nothing else (TestDenyRepliesPreEncoded), so rules
// and the default deny encode theirs once: under Yaegi (Traefik) encoding
// on every denial costs more interpreted calls than the rest of the rule.
func denyReplyOf(p *platform, code int, msg string) []byte {
	return p.reply(&Event{platform: p}, true, code, msg, nil)
}

// setPlatforms decides which platforms the rule applies to: the ones it
// names, or all, and only those the route answers. A route fixed to one
// platform thus validates and indexes its rules for that platform only:
// `code 5001` is right on an OpenIM-only route.
func (r *rule) setPlatforms(key string, names []string, s *settings) error {
	r.on = make([]bool, len(platforms))
	for _, name := range names {
		p := platformNamed(strings.ToLower(strings.TrimSpace(name)))
		if p == nil {
			return configErr(key+".platforms", "%q is not %s", name, strings.Join(platformNames(), " or "))
		}
		r.on[p.index] = true
	}
	answered := make([]bool, len(platforms))
	for _, p := range s.platforms {
		answered[p.index] = true
	}
	applies := false
	for i := range r.on {
		r.on[i] = (len(names) == 0 || r.on[i]) && answered[i]
		applies = applies || r.on[i]
	}
	if !applies {
		return configErr(key+".platforms", "the rule names only %s, which this route (platform %s) never answers", strings.Join(names, ", "), s.platform)
	}
	return nil
}

// setCodes validates the deny codes against every platform the rule
// applies to and fills the per-platform codes and messages: Codes and
// Messages name a platform each and override Code and Message there.
func (r *rule) setCodes(key string, c *RuleConfig) error {
	r.codes = make([]int, len(platforms))
	r.messages = make([]string, len(platforms))
	for _, p := range platforms {
		r.codes[p.index] = p.defaultDenyCode
		r.messages[p.index] = c.Message
	}
	if (c.Code != 0 || len(c.Codes) > 0 || len(c.Messages) > 0) && r.action != ActionDeny {
		return configErr(key+".code", "only a deny rule takes a code or a message")
	}
	for name, msg := range c.Messages {
		p, err := r.platformKey(key+".messages."+name, name, c.Platforms)
		if err != nil {
			return err
		}
		r.messages[p.index] = msg
	}
	for name, code := range c.Codes {
		p, err := r.platformKey(key+".codes."+name, name, c.Platforms)
		if err != nil {
			return err
		}
		if !p.validCode(code) {
			return configErr(key+".codes."+name, "%d is not %s", code, p.codeRange)
		}
		r.codes[p.index] = code
	}
	if c.Code == 0 {
		return nil
	}
	for _, p := range platforms {
		if _, overridden := c.Codes[p.name]; !r.on[p.index] || overridden {
			continue
		}
		if !p.validCode(c.Code) {
			return configErr(key+".code", "%d is not %s; give this platform its own with codes (e.g. codes: {%s: %d}), limit the rule with platforms, or pick another code", c.Code, p.codeRange, p.name, p.defaultDenyCode)
		}
		r.codes[p.index] = c.Code
	}
	return nil
}

// platformKey returns the platform a codes or messages key names. A rule
// whose own platforms leave that platform out contradicts itself; a route
// fixed to another platform does not: rules shared by several routes
// (a Caddyfile snippet) carry every platform's code.
func (r *rule) platformKey(key, name string, named []string) (*platform, error) {
	p := platformNamed(strings.ToLower(strings.TrimSpace(name)))
	if p == nil {
		return nil, configErr(key, "%q is not %s", name, strings.Join(platformNames(), " or "))
	}
	if len(named) > 0 && !r.on[p.index] {
		listed := false
		for _, n := range named {
			if strings.EqualFold(strings.TrimSpace(n), p.name) {
				listed = true
			}
		}
		if !listed {
			return nil, configErr(key, "the rule's platforms leave %s out", p.name)
		}
	}
	return p, nil
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
			if l.file != "" {
				m.lists = append(m.lists, l)
				continue
			}
			// A list without a file never changes: its ids join the
			// inline set, one lookup instead of one per list.
			for _, id := range l.inline {
				m.inline.add(id)
			}
			continue
		}
		m.inline.add(v)
	}
	if m.inline.size() == 0 {
		m.inline = nil
	}
	return m, nil
}

// candidates holds, per platform (by index) and normalized event, the
// rules whose platforms and events conditions admit that event, in rule
// order. The event names are a closed set (the command tables plus
// "unknown"), so the event globs are matched once at load time instead of
// on every callback.
type candidates []map[string][]*rule

// eventNames returns every normalized event name imgate can produce.
func eventNames() []string {
	seen := map[string]bool{EventUnknown: true}
	names := []string{EventUnknown}
	for _, p := range platforms {
		for _, c := range p.commands {
			if !seen[c.event] {
				seen[c.event] = true
				names = append(names, c.event)
			}
		}
	}
	return names
}

// indexRules builds the candidates and rejects event patterns that match
// no event, which are typos ("group.join.aply") that would never fire.
func indexRules(rules []*rule, cfgs []RuleConfig) (candidates, error) {
	idx := make(candidates, len(platforms))
	for i := range idx {
		idx[i] = map[string][]*rule{}
	}
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
				return idx, configErr(fmt.Sprintf("rules[%d] (%s).events", i, r.name), "%q matches no event imgate knows (see docs/events.md)", pattern)
			}
		}
		for _, name := range names {
			if r.events.size() > 0 && !setMatch(r.events, name) {
				continue
			}
			for pi, on := range r.on {
				if on {
					idx[pi][name] = append(idx[pi][name], r)
				}
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
		if matched = matchIDs(r.members, ev.Members); len(matched) == 0 {
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
