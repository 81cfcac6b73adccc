package upstreamtest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// deliver posts one delivery attempt of id as imgate's worker does and
// returns the status, or 0 when the connection failed.
func deliver(client *http.Client, url, id, actor string) int {
	req, err := http.NewRequest(http.MethodPost, url+"/after", strings.NewReader(`{"event":"group.member.joined"}`))
	if err != nil {
		panic(err)
	}
	req.Header.Set(deliveryIDHeader, id)
	req.Header.Set(attemptHeader, "1")
	req.Header.Set("X-Imgate-Group", "g1")
	req.Header.Set("X-Imgate-Actor", actor)
	req.Header.Set("X-Imgate-Platform", "openim")
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDeliveryService walks the service through each state a durable
// delivery meets: accepted, down (503), failing (500), unreachable
// (refused) and back, and a delivery id that comes again.
func TestDeliveryService(t *testing.T) {
	d := StartDeliveryService()
	defer d.Close()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	steps := []struct {
		name         string
		down, fail   bool
		unreachable  bool
		id           string
		want         int
		wantAccepted int
	}{
		{name: "accepted", id: "a", want: http.StatusNoContent, wantAccepted: 1},
		{name: "again", id: "a", want: http.StatusNoContent, wantAccepted: 2},
		{name: "down", down: true, id: "b", want: http.StatusServiceUnavailable},
		{name: "failing", fail: true, id: "b", want: http.StatusInternalServerError},
		{name: "unreachable", unreachable: true, id: "b", want: 0},
		{name: "back", id: "b", want: http.StatusNoContent, wantAccepted: 1},
	}
	for _, s := range steps {
		d.SetDown(s.down)
		d.SetFailing(s.fail)
		if err := d.SetUnreachable(s.unreachable); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := deliver(client, d.URL, s.id, "u-"+s.id); got != s.want {
			t.Errorf("%s: status %d, want %d", s.name, got, s.want)
		}
		if got := d.Accepted()[s.id]; got != s.wantAccepted {
			t.Errorf("%s: %s accepted %d times, want %d", s.name, s.id, got, s.wantAccepted)
		}
	}
	if got := d.Attempts(); got != len(steps)-1 {
		t.Errorf("%d attempts recorded, want %d (the refused one never arrived)", got, len(steps)-1)
	}
	got := d.Deliveries()
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" || got[1].Actor != "u-b" || got[1].Group != "g1" || got[1].Platform != "openim" || got[1].At.Before(got[0].At) {
		t.Errorf("deliveries %+v, want a then b, each once", got)
	}
	if o := strings.Join(d.Order(), ","); o != "g1/u-a,g1/u-a,g1/u-b" {
		t.Errorf("order %s", o)
	}
	d.CloseIdleConnections()
	// The client's pooled connection is closed now; it may not know yet.
	client.CloseIdleConnections()
	if got := deliver(client, d.URL, "c", "u-c"); got != http.StatusNoContent {
		t.Errorf("after closing idle connections: status %d", got)
	}
}

// TestMemberJoined: different users give different bodies, and
// AfterCallback is alice's.
func TestMemberJoined(t *testing.T) {
	for _, platform := range []string{"tencent", "openim"} {
		a := MemberJoined(platform, "g7", "u1", "1")
		b := MemberJoined(platform, "g7", "u2", "2")
		if a.Body == b.Body || !strings.Contains(a.Body, `"g7"`) || !strings.Contains(b.Body, `"u2"`) || a.Group != "g7" || b.Actor != "u2" {
			t.Errorf("%s: %s / %s", platform, a.Body, b.Body)
		}
	}
	want := `{"callbackCommand":"callbackAfterJoinGroupCommand","operationID":"op-after-1","groupID":"g1","groupType":2,"userID":"alice","joinSource":3}` + "\n"
	if got := AfterCallback("openim"); got.Body != want || got.Header["operationID"] != "op-after-1" {
		t.Errorf("AfterCallback(openim) = %s %v", got.Body, got.Header)
	}
}
