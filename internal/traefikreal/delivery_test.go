//go:build traefikreal

package traefikreal

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/upstreamtest"
)

// deliveryWait bounds how long the tests wait for background deliveries:
// a bound for a loaded machine, not a measurement.
const deliveryWait = 2 * time.Minute

// deliveryMiddleware forwards every callback and delivers after-callbacks
// durably to svc through spool, retrying quickly so that the tests stay
// short. extra keys are added to the config (an unrelated key changes the
// config without changing the spool).
func deliveryMiddleware(svc *upstreamtest.DeliveryService, spool string, extra map[string]any) map[string]any {
	cfg := map[string]any{
		"defaultAction":  "forward",
		"decisionHeader": forwardHeader,
		"delivery": map[string]any{
			"url": svc.URL + "/after", "spool": spool, "retryMin": "50ms", "retryMax": "500ms",
		},
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

// deliveryRoutes is the dynamic configuration of the delivery tests: one
// router with imgate in front of a service that is down, which no
// after-callback needs (the spool's worker calls delivery.url itself).
func deliveryRoutes(svc *upstreamtest.DeliveryService, spool, service string, extra map[string]any) map[string]any {
	return dynamicConfig(map[string]route{"delivery": {host: "delivery.test", middleware: deliveryMiddleware(svc, spool, extra), service: service}})
}

// memberJoined is after-callback n: platforms alternate, groups cycle
// through four, and every body differs (the spool takes equal bodies for
// a platform's retry).
func memberJoined(n int) upstreamtest.Callback {
	platform := "tencent"
	if n%2 == 1 {
		platform = "openim"
	}
	return upstreamtest.MemberJoined(platform, "g"+strconv.Itoa(n%4), "u"+strconv.Itoa(n), strconv.Itoa(n))
}

// acknowledge sends after-callback n and reports what is wrong with the
// reply ("" when it is the platform's acknowledgement).
func acknowledge(client *http.Client, base string, n int) string {
	cb := memberJoined(n)
	r := cb.Request(base)
	r.Host = "delivery.test"
	status, h, body, err := Do(client, r)
	if err != nil {
		return "callback " + strconv.Itoa(n) + ": " + err.Error()
	}
	if status != http.StatusOK || string(body) != cb.Reply() || !strings.HasPrefix(h.Get(forwardHeader), "ack;") {
		return "callback " + strconv.Itoa(n) + ": " + reply(status, h.Get(forwardHeader), string(body))
	}
	return ""
}

// acknowledgeAll sends after-callbacks from..to-1 and fails the test on
// any reply that is not the acknowledgement.
func acknowledgeAll(t *testing.T, client *http.Client, base string, from, to int) {
	t.Helper()
	for n := from; n < to; n++ {
		if problem := acknowledge(client, base, n); problem != "" {
			t.Fatal(problem)
		}
	}
}

// waitFor polls cond until it holds or deliveryWait passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for stop := time.Now().Add(deliveryWait); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(stop) {
			t.Fatalf("%s: not within %s", what, deliveryWait)
		}
	}
}

// checkDeliveredOnce checks that the service took exactly the
// after-callbacks 0..n-1, each delivery id once.
func checkDeliveredOnce(t *testing.T, svc *upstreamtest.DeliveryService, n int) {
	t.Helper()
	waitFor(t, strconv.Itoa(n)+" deliveries", func() bool { return len(svc.Accepted()) >= n })
	for id, times := range svc.Accepted() {
		if times != 1 {
			t.Errorf("delivery %s accepted %d times, want once", id, times)
		}
	}
	actors := map[string]bool{}
	for _, d := range svc.Deliveries() {
		actors[d.Actor] = true
	}
	for i := 0; i < n; i++ {
		if !actors["u"+strconv.Itoa(i)] {
			t.Errorf("after-callback %d (actor u%d) was never delivered", i, i)
		}
	}
	if len(actors) != n {
		t.Errorf("%d distinct callbacks delivered, want %d", len(actors), n)
	}
}

// pending counts the entries waiting in the spool directory.
func pending(t *testing.T, spool string) int {
	t.Helper()
	files, err := os.ReadDir(filepath.Join(spool, "pending"))
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

// TestDeliveryWhileServiceDown: in the real Traefik, after-callbacks sent
// while the business service answers 503 are all acknowledged at once,
// retried in the background, and each delivered exactly once after the
// service is back; the spool ends empty.
func TestDeliveryWhileServiceDown(t *testing.T) {
	svc := upstreamtest.StartDeliveryService()
	defer svc.Close()
	svc.SetDown(true)
	spool := t.TempDir()
	tr := startImgate(t, Options{})
	apply(t, tr, deliveryRoutes(svc, spool, downURL(t), nil))
	client := Client()
	const n = 24
	acknowledgeAll(t, client, tr.URL, 0, n)
	// Every group's head entry was tried and refused while down.
	waitFor(t, "delivery attempts while the service is down", func() bool { return svc.Attempts() >= 4 })
	if got := len(svc.Accepted()); got != 0 {
		t.Fatalf("%d deliveries accepted while the service was down", got)
	}
	svc.SetDown(false)
	checkDeliveredOnce(t, svc, n)
	waitFor(t, "an empty spool", func() bool { return pending(t, spool) == 0 })
	t.Logf("%d after-callbacks delivered once each after %d attempts", n, svc.Attempts())
}

// TestDeliveryAcrossRestart: Traefik stopped with entries pending, and a
// new Traefik process started on the same spool, delivers the rest; what
// was delivered before the stop is not delivered again.
func TestDeliveryAcrossRestart(t *testing.T) {
	svc := upstreamtest.StartDeliveryService()
	defer svc.Close()
	spool := t.TempDir()
	service := downURL(t)
	client := Client()

	first := startImgate(t, Options{})
	apply(t, first, deliveryRoutes(svc, spool, service, nil))
	const delivered, n = 10, 30
	acknowledgeAll(t, client, first.URL, 0, delivered)
	checkDeliveredOnce(t, svc, delivered)
	waitFor(t, "an empty spool before the stop", func() bool { return pending(t, spool) == 0 })
	svc.SetDown(true)
	acknowledgeAll(t, client, first.URL, delivered, n)
	first.Stop()
	left := pending(t, spool)
	if left != n-delivered {
		t.Fatalf("%d entries pending after the stop, want %d", left, n-delivered)
	}

	svc.SetDown(false)
	second := startImgate(t, Options{})
	// The spool's worker starts with the first configuration that names
	// the spool: Traefik builds the middleware when the file is applied.
	apply(t, second, deliveryRoutes(svc, spool, service, nil))
	checkDeliveredOnce(t, svc, n)
	waitFor(t, "an empty spool after the restart", func() bool { return pending(t, spool) == 0 })
	t.Logf("%d delivered before the stop, %d pending across it, all delivered once", delivered, left)
}

// goroutineMargin is how far two counts of the same idle Traefik may
// differ. Traefik starts and ends goroutines of its own around each
// configuration (the file provider's throttle, the previous
// configuration's handlers and HTTP connections closing asynchronously),
// so idle counts taken a few seconds apart differ by a handful. It stays
// well below the number of reloads (reloadRounds) and far below the
// routers × reloads New calls, so a goroutine per New or per reload, or a
// spool worker per engine, still fails the test.
const goroutineMargin = 10

// reloadRounds is how often the dynamic file is rewritten.
const reloadRounds = 25

// unrelatedKey is the config key of reload round: maxBodyBytes, which has
// nothing to do with delivery, changes every fifth round, so that those
// rounds build a new engine on the same spool and the others keep it.
func unrelatedKey(round int) map[string]any {
	return map[string]any{"maxBodyBytes": 65536 + round/5}
}

// idleGoroutines waits until Traefik's goroutine count settles (the
// lowest of a few readings a quarter of a second apart, after the
// service and the client dropped their idle connections) and returns it.
func idleGoroutines(t *testing.T, tr *Traefik, svc *upstreamtest.DeliveryService, client *http.Client) int {
	t.Helper()
	client.CloseIdleConnections()
	svc.CloseIdleConnections()
	lowest := -1
	for i := 0; i < 12; i++ {
		time.Sleep(250 * time.Millisecond)
		n, err := tr.Goroutines()
		if err != nil {
			t.Fatal(err)
		}
		if lowest < 0 || n < lowest {
			lowest = n
		}
	}
	return lowest
}

// TestDeliveryAcrossReloads: while after-callbacks flow, the dynamic file
// is rewritten reloadRounds times with the same imgate configuration (the
// engine and its spool are kept), and every fifth time with a changed
// unrelated key (the engine is rebuilt on the same spool): every callback
// is acknowledged, each is delivered once, and Traefik's goroutine count
// is as flat as an idle Traefik's: the spool has one worker per process,
// shared by every New call, and no reload leaves a goroutine behind.
func TestDeliveryAcrossReloads(t *testing.T) {
	svc := upstreamtest.StartDeliveryService()
	defer svc.Close()
	spool := t.TempDir()
	service := downURL(t)
	tr := startImgate(t, Options{Debug: true, LogLevel: "ERROR"})
	apply(t, tr, deliveryRoutes(svc, spool, service, unrelatedKey(0)))
	client := Client()
	// Warm up: Traefik's transports and imgate's delivery client exist
	// before the first count.
	acknowledgeAll(t, client, tr.URL, 0, 20)
	checkDeliveredOnce(t, svc, 20)
	before := idleGoroutines(t, tr, svc, client)

	var mu sync.Mutex
	next, problems := 20, []string{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := 0; c < 2; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sender := Client()
			defer sender.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				n := next
				next++
				mu.Unlock()
				if problem := acknowledge(sender, tr.URL, n); problem != "" {
					mu.Lock()
					problems = append(problems, problem)
					mu.Unlock()
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	for round := 1; round <= reloadRounds; round++ {
		apply(t, tr, deliveryRoutes(svc, spool, service, unrelatedKey(round)))
		time.Sleep(100 * time.Millisecond) // callbacks flow on each configuration
	}
	close(stop)
	wg.Wait()
	mu.Lock()
	sent := next
	mu.Unlock()
	if len(problems) > 0 {
		t.Fatalf("%d of %d after-callbacks not acknowledged during the reloads, first: %s", len(problems), sent-20, problems[0])
	}
	checkDeliveredOnce(t, svc, sent)
	waitFor(t, "an empty spool", func() bool { return pending(t, spool) == 0 })
	after := idleGoroutines(t, tr, svc, client)
	t.Logf("%d after-callbacks across %d reloads (%d engine rebuilds), all delivered once; goroutines %d -> %d", sent-20, reloadRounds, reloadRounds/5, before, after)
	if after > before+goroutineMargin {
		t.Errorf("traefik's goroutines grew from %d to %d over %d reloads (margin %d)", before, after, reloadRounds, goroutineMargin)
	}
}
