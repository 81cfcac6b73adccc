//go:build traefikreal

package traefikreal

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// openIMJoin is an OpenIM application to join a group by actor.
func openIMJoin(base, actor string) *http.Request {
	body := `{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"` + actor + `","reqMessage":"hi"}`
	r, err := http.NewRequest(http.MethodPost, base+"/im/callbackBeforeJoinGroupCommand", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	return r
}

// trafficPause spaces each client's requests, and trafficCap bounds their
// number: the clients keep a route busy, they do not load-test a shared
// 2-core machine.
const (
	trafficPause = 5 * time.Millisecond
	trafficCap   = 20000
)

// traffic sends requests from a few clients until stopped (or trafficCap
// requests) and records every reply that is not one of the allowed ones.
type traffic struct {
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	sent    int
	invalid []string
}

// startTraffic runs clients goroutines, each sending request() and
// checking the reply with valid, until end is called.
func startTraffic(t *testing.T, clients int, request func() *http.Request, host string, valid func(status int, decision, body string) bool) *traffic {
	tf := &traffic{stop: make(chan struct{})}
	for i := 0; i < clients; i++ {
		tf.wg.Add(1)
		go func() {
			defer tf.wg.Done()
			client := Client()
			for {
				select {
				case <-tf.stop:
					return
				default:
				}
				tf.mu.Lock()
				if tf.sent >= trafficCap {
					tf.mu.Unlock()
					return
				}
				tf.sent++
				tf.mu.Unlock()
				r := request()
				r.Host = host
				status, h, body, err := Do(client, r)
				tf.mu.Lock()
				if err != nil {
					tf.invalid = append(tf.invalid, err.Error())
				} else if !valid(status, h.Get("X-Imgate-Decision"), string(body)) {
					tf.invalid = append(tf.invalid, reply(status, h.Get("X-Imgate-Decision"), string(body)))
				}
				tf.mu.Unlock()
				time.Sleep(trafficPause)
			}
		}()
	}
	return tf
}

// end stops the clients and returns how many requests were sent and the
// invalid replies.
func (tf *traffic) end() (int, []string) {
	close(tf.stop)
	tf.wg.Wait()
	return tf.sent, tf.invalid
}

// Replies of the ban-list middleware.
const (
	openIMAllow = `{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`
	openIMDeny  = `{"actionCode":0,"errCode":5000,"errMsg":"","errDlt":"","nextCode":1}`
)

// TestListFileRewrittenWhileServing rewrites a ban-list file under real
// Traefik while clients keep sending callbacks: replaced by rename, written
// in place, removed (the last good list stays) and created again. Every
// reply must be a valid allow or deny, and each change must take effect.
func TestListFileRewrittenWhileServing(t *testing.T) {
	listFile := filepath.Join(t.TempDir(), "banned.txt")
	write := func(content string) {
		t.Helper()
		if err := writeAtomic(listFile, []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	writeInPlace := func(content string) {
		t.Helper()
		if err := os.WriteFile(listFile, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("mallory\n")
	config := map[string]any{
		"decisionHeader":     "X-Imgate-Decision",
		"listReloadInterval": "200ms",
		"lists":              map[string]any{"banned": map[string]any{"file": listFile}},
		"rules":              []any{map[string]any{"name": "banned", "actors": []any{"@banned"}, "action": "deny"}},
	}
	tr := startImgate(t, Options{})
	apply(t, tr, dynamicConfig(map[string]route{"lists": {host: "lists.test", middleware: config, service: downURL(t)}}))

	valid := func(status int, decision, body string) bool {
		return status == http.StatusOK && (body == openIMAllow && decision == "allow; rule=default" || body == openIMDeny && decision == "deny; rule=banned")
	}
	tf := startTraffic(t, 2, func() *http.Request { return openIMJoin(tr.URL, "eve") }, "lists.test", valid)
	client := Client()
	// waitFor polls until actor's decision is want, or fails after 20 s.
	waitFor := func(step, actor, want string) {
		t.Helper()
		stop := time.Now().Add(20 * time.Second)
		for {
			_, decision, _ := send(t, client, openIMJoin(tr.URL, actor), "lists.test", "X-Imgate-Decision")
			if strings.HasPrefix(decision, want+";") {
				return
			}
			if time.Now().After(stop) {
				t.Fatalf("%s: %s still gets %q, want %s", step, actor, decision, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("start", "mallory", "deny")
	waitFor("start", "eve", "allow")
	write("mallory\neve\n")
	waitFor("replaced by rename", "eve", "deny")
	writeInPlace("mallory\n")
	waitFor("written in place", "eve", "allow")
	writeInPlace("mallory\neve # added in place\n")
	waitFor("written in place again", "eve", "deny")
	if err := os.Remove(listFile); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // over two reload intervals
	waitFor("file removed: the last good list stays", "eve", "deny")
	waitFor("file removed: the last good list stays", "mallory", "deny")
	write("eve\n")
	waitFor("created again", "mallory", "allow")
	waitFor("created again", "eve", "deny")

	sent, invalid := tf.end()
	t.Logf("%d callbacks answered while the list changed", sent)
	if len(invalid) > 0 {
		t.Errorf("%d of %d replies invalid, first: %s", len(invalid), sent, invalid[0])
	}
	if sent == 0 {
		t.Error("no traffic while the list changed")
	}
	if err := tr.Problems(); err != nil {
		t.Error(err)
	}
}
