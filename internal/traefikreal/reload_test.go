//go:build traefikreal

package traefikreal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// reloadConfig is generation gen of the reloaded middleware: the ban rule's
// message names the generation, so every reply says which config made it.
func reloadConfig(gen int) map[string]any {
	return map[string]any{
		"decisionHeader": "X-Imgate-Decision",
		"lists":          map[string]any{"banned": map[string]any{"values": []any{"mallory"}}},
		"rules": []any{map[string]any{
			"name": "banned", "actors": []any{"@banned"}, "action": "deny", "message": "generation " + strconv.Itoa(gen),
		}},
	}
}

// reloadRoutes is the dynamic configuration of generation gen: the
// reloaded router, plus a router that exists in odd generations only, so
// the set of routers changes as well.
func reloadRoutes(gen int, service string) map[string]route {
	routes := map[string]route{"reload": {host: "reload.test", middleware: reloadConfig(gen), service: service}}
	if gen%2 == 1 {
		routes["extra"] = route{host: "extra.test", middleware: reloadConfig(-gen), service: service}
	}
	return routes
}

// generationOf returns the generation a reply comes from, or -1 when the
// reply is not exactly a deny of some generation.
func generationOf(status int, decision, body string) int {
	var r struct {
		ErrMsg string `json:"errMsg"`
	}
	if status != http.StatusOK || decision != "deny; rule=banned" || json.Unmarshal([]byte(body), &r) != nil {
		return -1
	}
	gen, err := strconv.Atoi(strings.TrimPrefix(r.ErrMsg, "generation "))
	if err != nil || body != fmt.Sprintf(`{"actionCode":0,"errCode":5000,"errMsg":"generation %d","errDlt":"","nextCode":1}`, gen) {
		return -1
	}
	return gen
}

// TestReloadWhileServing rewrites Traefik's dynamic file while clients
// keep sending callbacks: each valid rewrite (new imgate config, routers
// added and removed) is live as soon as Traefik serves the new file, no
// request fails, and no client ever gets an older generation after a newer
// one (Traefik swaps the whole handler at once). A torn file (invalid
// YAML) is refused by Traefik, which keeps serving the last good
// configuration.
func TestReloadWhileServing(t *testing.T) {
	tr := startImgate(t, Options{})
	service := downURL(t)
	apply(t, tr, dynamicConfig(reloadRoutes(1, service)))

	var mu sync.Mutex
	lastSeen, regressions := 0, []string{}
	tf := startTraffic(t, 2, func() *http.Request { return openIMJoin(tr.URL, "mallory") }, "reload.test",
		func(status int, decision, body string) bool {
			gen := generationOf(status, decision, body)
			return gen > 0
		})
	// A third client checks the order of generations it sees.
	ordered := startTraffic(t, 1, func() *http.Request { return openIMJoin(tr.URL, "mallory") }, "reload.test",
		func(status int, decision, body string) bool {
			gen := generationOf(status, decision, body)
			mu.Lock()
			defer mu.Unlock()
			if gen < lastSeen {
				regressions = append(regressions, fmt.Sprintf("generation %d after %d", gen, lastSeen))
			}
			if gen > lastSeen {
				lastSeen = gen
			}
			return gen > 0
		})
	client := Client()
	const generations = 6
	for gen := 2; gen <= generations; gen++ {
		time.Sleep(100 * time.Millisecond) // let traffic flow on each generation
		apply(t, tr, dynamicConfig(reloadRoutes(gen, service)))
		status, decision, body := send(t, client, openIMJoin(tr.URL, "mallory"), "reload.test", "X-Imgate-Decision")
		if got := generationOf(status, decision, body); got != gen {
			t.Errorf("right after generation %d was live: %s", gen, reply(status, decision, body))
		}
	}

	// A torn write: Traefik cannot parse the file and keeps the last good
	// configuration.
	logsBefore := len(tr.Logs())
	if err := tr.ApplyRaw([]byte("http:\n  routers:\n    reload: {rule: \"Host(`reload.test`)\n")); err != nil {
		t.Fatal(err)
	}
	refused := false
	for stop := time.Now().Add(20 * time.Second); time.Now().Before(stop) && !refused; time.Sleep(50 * time.Millisecond) {
		for _, l := range tr.Logs()[logsBefore:] {
			if l.Level == "error" && l.Fields["providerName"] == "file" && strings.Contains(l.Error, "yaml") {
				refused = true
				t.Logf("traefik refused the torn file: %s", l.Raw)
			}
		}
	}
	if !refused {
		t.Error("traefik logged no error for the torn file")
	}
	status, decision, body := send(t, client, openIMJoin(tr.URL, "mallory"), "reload.test", "X-Imgate-Decision")
	if got := generationOf(status, decision, body); got != generations {
		t.Errorf("after the torn file: %s, want generation %d", reply(status, decision, body), generations)
	}

	sent, invalid := tf.end()
	sentOrdered, invalidOrdered := ordered.end()
	sent += sentOrdered
	invalid = append(invalid, invalidOrdered...)
	t.Logf("%d callbacks answered across %d reloads and a torn file", sent, generations)
	if len(invalid) > 0 {
		t.Errorf("%d of %d requests failed during reloads, first: %s", len(invalid), sent, invalid[0])
	}
	if len(regressions) > 0 {
		t.Errorf("a client saw an older generation after a newer one: %v", regressions)
	}
	if sent == 0 {
		t.Error("no traffic during the reloads")
	}
}

// TestRefusedConfigTakesRouteDown shows what Traefik does when a reload
// carries an imgate config that New refuses: the router is disabled (its
// requests get Traefik's 404) and Traefik's API and log name the reason;
// the next valid config brings it back. imgate never serves with a check
// silently off.
func TestRefusedConfigTakesRouteDown(t *testing.T) {
	tr := startImgate(t, Options{})
	service := downURL(t)
	apply(t, tr, dynamicConfig(reloadRoutes(2, service)))
	bad := reloadConfig(3)
	bad["defaultAction"] = "maybe"
	err := tr.Apply(dynamicConfig(map[string]route{"reload": {host: "reload.test", middleware: bad, service: service}}), applyTimeout)
	if err == nil || !strings.Contains(err.Error(), "defaultAction") {
		t.Fatalf("Apply of a refused config: %v, want an error naming defaultAction", err)
	}
	client := Client()
	status, decision, body := send(t, client, openIMJoin(tr.URL, "mallory"), "reload.test", "X-Imgate-Decision")
	if status != http.StatusNotFound {
		t.Errorf("with the refused config: %s, want Traefik's 404", reply(status, decision, body))
	}
	apply(t, tr, dynamicConfig(reloadRoutes(4, service)))
	status, decision, body = send(t, client, openIMJoin(tr.URL, "mallory"), "reload.test", "X-Imgate-Decision")
	if got := generationOf(status, decision, body); got != 4 {
		t.Errorf("after a valid config again: %s, want generation 4", reply(status, decision, body))
	}
}
