package core

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
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
	// textLiterals, when set, answers as text.MatchString does, faster
	// (literalMatcher, compiled builds only).
	textLiterals func(string) bool
	maxMembers   int
	rate         *limiter
	rateByGroup  bool
	// ratePeriod and rateInterval are the rate's period and the time one
	// token takes to come back (period/N), in microseconds, as the Redis
	// store's script takes them.
	ratePeriod   string
	rateInterval string
	// storeFailure settles the rate condition when the shared store
	// fails: StoreFailureAllow, StoreFailureDeny or StoreFailureLocal.
	storeFailure string
	action       string
	shadow       bool
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
		if literalMatcher != nil {
			r.textLiterals = literalMatcher(c.Text)
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
		r.ratePeriod = strconv.FormatInt(int64(per/time.Microsecond), 10)
		r.rateInterval = strconv.FormatFloat(float64(per)/float64(time.Microsecond)/n, 'f', 3, 64)
	}
	by, err := oneOf(key+".rateBy", c.RateBy, "actor", "actor", "group")
	if err != nil {
		return nil, err
	}
	r.rateByGroup = by == "group"
	if r.storeFailure, err = oneOf(key+".storeFailure", c.StoreFailure, StoreFailureLocal, StoreFailureAllow, StoreFailureDeny, StoreFailureLocal); err != nil {
		return nil, err
	}
	if c.StoreFailure != "" && r.rate == nil {
		return nil, configErr(key+".storeFailure", "is set but the rule has no rate; it says how a rate is decided when the shared store fails")
	}
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

// pickRule runs the candidate rules for ev in order, records shadow hits in
// out, and returns the rule that decides (nil when none matches) with the
// members it matched. On a shared store the rate conditions are settled
// together (pickRuleShared); in memory each is settled as it is reached.
func pickRule(e *Engine, ev *Event, out *Outcome, now int64) (*rule, []string) {
	cands := e.cands[ev.platform.index][ev.Event]
	if e.store.kind.shared {
		return pickRuleShared(e, cands, ev, out, now)
	}
	for _, candidate := range cands {
		ok, members := ruleMatch(candidate, ev, now)
		if !ok {
			continue
		}
		if candidate.shadow {
			out.Shadow = append(out.Shadow, ShadowHit{Rule: candidate.name, Action: candidate.action})
			continue
		}
		return candidate, members
	}
	return nil, nil
}

// plannedRule is a rule whose conditions other than the rate hold, in a
// decision on a shared store; check indexes its rate check, or is -1.
type plannedRule struct {
	r       *rule
	members []string
	check   int
}

// pickRuleShared decides as pickRule does, with every rate condition
// settled in one store call: it first walks the rules as far as a rule
// without a rate could decide, collecting the rate checks of the rules
// whose other conditions hold, then has the store settle those in order
// (stopping at the first exceeded rule that is not a shadow rule, as the
// walk in memory would), then walks the collected rules again. Tokens are
// thus taken exactly where the in-memory walk takes them, in one round
// trip however many rate rules a callback reaches.
func pickRuleShared(e *Engine, cands []*rule, ev *Event, out *Outcome, now int64) (*rule, []string) {
	var plan []plannedRule
	var checks []rateCheck
	for _, candidate := range cands {
		ok, members := ruleConditions(candidate, ev)
		if !ok {
			continue
		}
		p := plannedRule{r: candidate, members: members, check: -1}
		if candidate.rate != nil {
			p.check = len(checks)
			checks = append(checks, rateCheck{rule: candidate, platform: ev.Platform, id: rateID(candidate, ev)})
		}
		plan = append(plan, p)
		if candidate.rate == nil && !candidate.shadow {
			break
		}
	}
	if len(checks) > 0 {
		reason, err := settleRates(e, checks, now)
		out.StoreFailure = reason
		out.StoreErr = err
	}
	for _, p := range plan {
		if p.check >= 0 && !checks[p.check].exceeded {
			continue
		}
		if p.r.shadow {
			out.Shadow = append(out.Shadow, ShadowHit{Rule: p.r.name, Action: p.r.action})
			continue
		}
		return p.r, p.members
	}
	return nil, nil
}

// rateID is the id a rule's rate counts by: the actor, or the group.
func rateID(r *rule, ev *Event) string {
	if r.rateByGroup {
		return ev.GroupID
	}
	return ev.Actor
}

// ruleMatch reports whether the rule's remaining conditions hold for ev
// (platform and event were settled by the candidates index), the rate
// counted in the rule's in-memory buckets. For a members condition it also
// returns the matching members. The rate condition is checked last so that
// a token is only taken when everything else matched.
func ruleMatch(r *rule, ev *Event, now int64) (bool, []string) {
	ok, matched := ruleConditions(r, ev)
	if !ok {
		return false, nil
	}
	if r.rate != nil && !r.rate.exceeded(ev.Platform+"\x00"+rateID(r, ev), now) {
		return false, nil
	}
	return true, matched
}

// ruleConditions reports whether every condition of the rule but the rate
// holds for ev, and the matching members.
func ruleConditions(r *rule, ev *Event) (bool, []string) {
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
	if r.text != nil && !textMatches(r, ev.Text) {
		return false, nil
	}
	var matched []string
	if r.members != nil {
		if matched = matchIDs(r.members, ev.Members); len(matched) == 0 {
			return false, nil
		}
	}
	return true, matched
}

// textMatches reports whether r's text pattern matches text.
func textMatches(r *rule, text string) bool {
	if r.textLiterals != nil {
		return r.textLiterals(text)
	}
	return r.text.MatchString(text)
}
