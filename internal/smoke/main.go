// Command smoke checks a running gateway started on Caddyfile.example: it
// sends the four vendor sample callbacks (testdata/seeds), a rule denial
// and a forward fallback, compares the exact replies, and checks the admin
// metrics endpoint. .ci/caddy.sh runs it, so the smoke test needs only Go.
//
//	go run ./internal/smoke -gateway http://127.0.0.1:8080 -admin http://localhost:2019
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

const (
	tencentOK = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`
	openimOK  = `{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`
)

// check is one callback and the exact reply Caddyfile.example gives.
type check struct {
	name     string
	path     string
	bodyFile string // under the repository root
	body     string // used when bodyFile is empty
	want     string
}

var checks = []check{
	{"tencent-before-apply-join", "/im/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json&ClientIP=127.0.0.1&OptPlatform=iOS",
		"testdata/seeds/tencent-before-apply-join.json", "", tencentOK},
	{"tencent-before-invite-join", "/im/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeInviteJoinGroup&contenttype=json&ClientIP=127.0.0.1&OptPlatform=Android",
		"testdata/seeds/tencent-before-invite-join.json", "", tencentOK},
	{"openim-before-join-group", "/im/openim/callbackBeforeJoinGroupCommand?contenttype=json",
		"testdata/seeds/openim-before-join-group.json", "", openimOK},
	{"tencent-after-create-group", "/im/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackAfterCreateGroup&contenttype=json&ClientIP=127.0.0.1&OptPlatform=Web",
		"testdata/seeds/tencent-after-create-group.json", "", tencentOK},
	{"tencent-banned-applicant", "/im/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup", "",
		`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g1","Requestor_Account":"mallory"}`,
		`{"ActionStatus":"OK","ErrorInfo":"you are banned","ErrorCode":10101}`},
	{"openim-banned-applicant", "/im/openim/callbackBeforeJoinGroupCommand", "",
		`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","applyID":"mallory"}`,
		`{"actionCode":0,"errCode":5101,"errMsg":"you are banned","errDlt":"","nextCode":1}`},
	{"openim-spam-text", "/im/openim/callbackBeforeJoinGroupCommand", "",
		`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","applyID":"u7","reqMessage":"FREE MONEY here"}`,
		`{"actionCode":0,"errCode":5000,"errMsg":"","errDlt":"","nextCode":1}`},
	// OpenIM v3.0-3.4 call the configured URL itself, the command in the query.
	{"openim-v3.4-query-command", "/im/openim?command=callbackBeforeJoinGroupCommand", "",
		`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","applyID":"u7","reqMessage":"FREE MONEY here"}`,
		`{"actionCode":0,"errCode":5000,"errMsg":"","errDlt":"","nextCode":1}`},
	{"openim-v3.4-query-command-allowed", "/im/openim?command=callbackBeforeJoinGroupCommand",
		"testdata/seeds/openim-before-join-group.json", "", openimOK},
}

// forwardChecks need nothing listening on the example's upstream address:
// the forward route must then answer with its fallback, in time.
var forwardChecks = []check{
	{"forward-fallback-upstream-down", "/im/forward/x?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup",
		"testdata/seeds/tencent-before-apply-join.json", "", tencentOK},
	{"forward-without-trailing-slash", "/im/forward?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup",
		"testdata/seeds/tencent-before-apply-join.json", "", tencentOK},
}

func main() {
	gateway := flag.String("gateway", "http://127.0.0.1:8080", "gateway base URL")
	admin := flag.String("admin", "http://localhost:2019", "Caddy admin base URL")
	wait := flag.Duration("wait", time.Minute, "how long to wait for the gateway to come up (a loaded machine starts slowly)")
	flag.Parse()
	client := &http.Client{Timeout: 5 * time.Second}
	if err := waitReady(client, *admin+"/config/", *wait); err != nil {
		fmt.Fprintln(os.Stderr, "smoke:", err)
		os.Exit(1)
	}
	all := checks
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:9000", 200*time.Millisecond); err == nil {
		conn.Close()
		fmt.Println("skip the forward checks (something listens on 127.0.0.1:9000)")
	} else {
		all = append(all, forwardChecks...)
	}
	failed := 0
	for _, c := range all {
		if err := run(client, *gateway, c); err != nil {
			fmt.Printf("FAIL %s: %v\n", c.name, err)
			failed++
			continue
		}
		fmt.Printf("ok   %s\n", c.name)
	}
	if err := metrics(client, *admin+"/metrics"); err != nil {
		fmt.Printf("FAIL metrics: %v\n", err)
		failed++
	} else {
		fmt.Println("ok   metrics")
	}
	if failed > 0 {
		fmt.Printf("smoke: %d check(s) failed\n", failed)
		os.Exit(1)
	}
	fmt.Println("smoke: all replies as expected")
}

func waitReady(client *http.Client, url string, wait time.Duration) error {
	stop := time.Now().Add(wait)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(stop) {
			return fmt.Errorf("gateway not ready after %s: %v", wait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func run(client *http.Client, base string, c check) error {
	body := []byte(c.body)
	if c.bodyFile != "" {
		data, err := os.ReadFile(c.bodyFile)
		if err != nil {
			return err
		}
		body = data
	}
	resp, err := client.Post(base+c.path, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(got) != c.want {
		return fmt.Errorf("HTTP %d %s, want 200 %s", resp.StatusCode, got, c.want)
	}
	return nil
}

var errNoMetric = errors.New("no caddy_imgate_decisions_total on the admin /metrics endpoint")

func metrics(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "caddy_imgate_decisions_total{") {
			return nil
		}
	}
	return errNoMetric
}
