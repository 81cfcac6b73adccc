package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/internal/golden"
)

// signOptions are sign's flags and argument.
type signOptions struct {
	token, tokenEnv, tokenFile string
	send                       bool
	body                       string
	timeout                    time.Duration
	url                        string
}

func runSign(args []string, stdout, stderr io.Writer) int {
	opts, err := parseSignFlags(args, stderr)
	var token string
	if err == nil {
		token, err = opts.resolveToken()
	}
	var signed string
	if err == nil {
		signed, err = signURL(opts.url, token, time.Now())
	}
	if err == nil && opts.send {
		err = sendable(signed)
	}
	if err != nil {
		return usageError(stderr, "sign", err)
	}
	if !opts.send {
		fmt.Fprintln(stdout, signed)
		return exitOK
	}
	body, err := sampleBody(opts.body, signed)
	if err != nil {
		return usageError(stderr, "sign", err)
	}
	ok, err := send(stdout, signed, body, opts.timeout)
	if err != nil {
		fmt.Fprintf(stderr, "imgate sign: %v\n", err)
		return exitFail
	}
	if !ok {
		return exitFail
	}
	return exitOK
}

func parseSignFlags(args []string, stderr io.Writer) (signOptions, error) {
	var opts signOptions
	fl := flag.NewFlagSet("imgate sign", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&opts.tokenEnv, "token-env", "", "the environment variable holding the Tencent callback token")
	fl.StringVar(&opts.tokenFile, "token-file", "", "a file holding the Tencent callback token (surrounding whitespace ignored)")
	fl.StringVar(&opts.token, "token", "", "the Tencent callback token itself (visible to other users in the process list; prefer -token-env)")
	fl.BoolVar(&opts.send, "send", false, "POST a sample callback to the signed URL and print the exchange")
	fl.StringVar(&opts.body, "body", "", "with -send: the body to POST (default: the vendor sample of the URL's CallbackCommand from testdata/seeds)")
	fl.DurationVar(&opts.timeout, "timeout", 10*time.Second, "with -send: how long to wait for the reply")
	fl.Usage = func() {
		fmt.Fprint(stderr, "usage: imgate sign (-token-env VAR | -token-file FILE | -token TOKEN) [-send [-body FILE]] <url>\n\n")
		fl.PrintDefaults()
		fmt.Fprint(stderr, "\nPrints the URL with RequestTime=<now> and Sign=sha256(token + RequestTime), replacing any present.\n"+
			"With -send, exit status 0 means the gateway answered 2xx, 1 anything else; 2 is a usage error.\n")
	}
	// Flags may follow the URL: imgate sign <url> -send.
	var positional []string
	for {
		if err := fl.Parse(args); err != nil {
			return opts, parseError(err)
		}
		if fl.NArg() == 0 {
			break
		}
		positional = append(positional, fl.Arg(0))
		args = fl.Args()[1:]
	}
	if len(positional) != 1 {
		return opts, fmt.Errorf("give exactly one URL, got %d", len(positional))
	}
	opts.url = positional[0]
	if opts.body != "" && !opts.send {
		return opts, errors.New("-body is only used with -send")
	}
	return opts, nil
}

// resolveToken reads the token from its one source. Errors never carry it.
func (o signOptions) resolveToken() (string, error) {
	sources := 0
	for _, s := range []string{o.token, o.tokenEnv, o.tokenFile} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return "", errors.New("give the token exactly once: -token-env VAR, -token-file FILE or -token TOKEN")
	}
	switch {
	case o.tokenEnv != "":
		v := strings.TrimSpace(os.Getenv(o.tokenEnv))
		if v == "" {
			return "", fmt.Errorf("environment variable %s is unset or empty", o.tokenEnv)
		}
		return v, nil
	case o.tokenFile != "":
		data, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return "", err
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			return "", fmt.Errorf("%s is empty", o.tokenFile)
		}
		return v, nil
	}
	if strings.TrimSpace(o.token) == "" {
		return "", errors.New("-token is blank")
	}
	return o.token, nil
}

// signURL returns raw with RequestTime (unix seconds of now) and Sign
// (hex sha256 of token + RequestTime, as Tencent signs and core checks)
// at the end of its query, replacing any RequestTime or Sign in it; the
// other parameters keep their order and spelling. raw must be a Tencent
// callback URL: one with CallbackCommand.
func signURL(raw, token string, now time.Time) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("URL: %w", err)
	}
	if u.Query().Get("CallbackCommand") == "" {
		return "", fmt.Errorf("%s has no CallbackCommand: not a Tencent callback URL (OpenIM callbacks are not signed)", raw)
	}
	base, query, _ := strings.Cut(raw, "?")
	query, fragment, hasFragment := strings.Cut(query, "#")
	var kept []string
	for _, p := range strings.Split(query, "&") {
		key, _, _ := strings.Cut(p, "=")
		if k, kerr := url.QueryUnescape(key); p == "" || kerr == nil && (k == "RequestTime" || k == "Sign") {
			continue
		}
		kept = append(kept, p)
	}
	requestTime := strconv.FormatInt(now.Unix(), 10)
	sum := sha256.Sum256([]byte(token + requestTime))
	kept = append(kept, "RequestTime="+requestTime, "Sign="+hex.EncodeToString(sum[:]))
	signed := base + "?" + strings.Join(kept, "&")
	if hasFragment {
		signed += "#" + fragment
	}
	return signed, nil
}

// sendable refuses a URL -send cannot post to.
func sendable(signed string) error {
	u, err := url.Parse(signed)
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		err = fmt.Errorf("-send needs an http:// or https:// URL with a host, got %s", signed)
	}
	return err
}

// sampleBody returns the body file's content, or the vendor sample in
// testdata/seeds whose text names the URL's CallbackCommand.
func sampleBody(file, signed string) ([]byte, error) {
	if file != "" {
		return os.ReadFile(file)
	}
	u, err := url.Parse(signed)
	if err != nil {
		return nil, err
	}
	command := u.Query().Get("CallbackCommand")
	dir, err := golden.Dir()
	if err != nil {
		return nil, fmt.Errorf("no -body given and no testdata/seeds found above the working directory (run from the repository, or give -body FILE): %w", err)
	}
	seeds, err := filepath.Glob(filepath.Join(dir, "seeds", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(seeds)
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(data, []byte(`"`+command+`"`)) {
			return data, nil
		}
	}
	return nil, fmt.Errorf("no sample for %s in %s; give -body FILE", command, filepath.Join(dir, "seeds"))
}

// send POSTs body to signed and prints the exchange as curl -v would:
// request line and headers, then status line, headers and body. It
// reports whether the reply was 2xx.
func send(w io.Writer, signed string, body []byte, timeout time.Duration) (bool, error) {
	req, err := http.NewRequest(http.MethodPost, signed, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "imgate-sign")
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s HTTP/1.1\n> Host: %s\n", req.Method, req.URL.RequestURI(), req.URL.Host)
	fmt.Fprintf(&b, "> Content-Length: %d\n", len(body))
	writeHeaders(&b, "> ", req.Header)
	b.WriteString(">\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return false, err
	}
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableCompression: true, Proxy: http.ProxyFromEnvironment}}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, fmt.Errorf("reading the reply: %w", err)
	}
	b.Reset()
	fmt.Fprintf(&b, "< %s %s\n", resp.Proto, resp.Status)
	writeHeaders(&b, "< ", resp.Header)
	b.WriteString("<\n")
	b.Write(reply)
	if len(reply) > 0 && reply[len(reply)-1] != '\n' {
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return false, err
	}
	return resp.StatusCode >= 200 && resp.StatusCode <= 299, nil
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, v)
		}
	}
}
