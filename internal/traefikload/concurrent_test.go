package traefikload

import (
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentForwards sends many forwarded callbacks at once through
// the interpreted plugin, as Traefik serves them, with a service that
// answers each after a random pause with a decision naming the caller.
// Every platform reply must carry its own caller's answer: interpreted
// code shares per-statement state between goroutines (Yaegi v0.16.1 reuses
// one reflect.Select case list per select statement), and a mix-up would
// hand one callback another's decision or a spurious timeout fallback.
func TestConcurrentForwards(t *testing.T) {
	const callers = 24
	next := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		time.Sleep(time.Duration(rand.Intn(15)) * time.Millisecond)
		actor := req.Header.Get("X-Imgate-Actor")
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(rw, `{"decision":"deny","code":5100,"message":%q}`, "for "+actor)
	})
	h := New(t, map[string]any{"defaultAction": "forward"}, next)
	// One callback first: Yaegi builds reflect types lazily on first use,
	// unsynchronised (idempotent, but the race detector reports it); a
	// warm Traefik has long done so.
	warm := httptest.NewRecorder()
	h.ServeHTTP(warm, httptest.NewRequest(http.MethodPost, "/im/callbackBeforeJoinGroupCommand",
		strings.NewReader(`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"warm"}`)))
	if !strings.Contains(warm.Body.String(), `"errMsg":"for warm"`) {
		t.Fatalf("warm-up reply %s", warm.Body.String())
	}
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		errs := make(chan string, callers)
		for i := 0; i < callers; i++ {
			wg.Add(1)
			go func(actor string) {
				defer wg.Done()
				body := `{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"` + actor + `"}`
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/im/callbackBeforeJoinGroupCommand", strings.NewReader(body)))
				want := `{"actionCode":0,"errCode":5100,"errMsg":"for ` + actor + `","errDlt":"","nextCode":1}`
				if rec.Body.String() != want {
					errs <- fmt.Sprintf("%s got %s", actor, rec.Body.String())
				}
			}(fmt.Sprintf("user%d", i))
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Errorf("round %d: %s", round, e)
		}
	}
}
