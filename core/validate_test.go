package core_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
)

func TestParseRate(t *testing.T) {
	cases := []struct {
		spec    string
		n       float64
		per     time.Duration
		errText string
	}{
		{"5/1m", 5, time.Minute, ""},
		{"100/s", 100, time.Second, ""},
		{"0.5/2h", 0.5, 2 * time.Hour, ""},
		{" 3 / m ", 3, time.Minute, ""},
		{"5", 0, 0, `"5" is not N/duration`},
		{"0/1m", 0, 0, "count must be a positive number"},
		{"x/1m", 0, 0, "count must be a positive number"},
		{"5/fortnight", 0, 0, `"fortnight" is not a positive duration`},
		{"5/-1m", 0, 0, "is not a positive duration"},
		{"5/0s", 0, 0, "is not a positive duration"},
		{"5/", 0, 0, "is not a positive duration"},
		{"-1/1m", 0, 0, "count must be a positive number"},
	}
	for _, tc := range cases {
		n, per, err := core.ParseRate(tc.spec)
		if tc.errText != "" {
			if err == nil || !errors.Is(err, core.ErrConfig) || !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("%q: error %v, want one saying %q", tc.spec, err, tc.errText)
			}
			continue
		}
		if err != nil || n != tc.n || per != tc.per {
			t.Errorf("%q: %v per %s, %v; want %v per %s", tc.spec, n, per, err, tc.n, tc.per)
		}
	}
}

func TestValidators(t *testing.T) {
	if err := core.ValidateAppID("1400000001"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "14000x", "-1", "1.5"} {
		if err := core.ValidateAppID(bad); err == nil || !errors.Is(err, core.ErrConfig) {
			t.Errorf("app id %q: error %v", bad, err)
		}
	}
	for code, want := range map[int]bool{1: true, 10100: true, 10200: true, 5000: true, 9999: true, 0: false, 2: false, 404: false, 10201: false, 4999: false, 10000: false} {
		if got := core.ValidDenyCode(code); got != want {
			t.Errorf("ValidDenyCode(%d) = %v", code, got)
		}
	}
	if r := core.DenyCodeRanges(); !strings.Contains(r, "1 or 10100-10200") || !strings.Contains(r, "5000-9999") {
		t.Errorf("DenyCodeRanges %q", r)
	}
	if p := strings.Join(core.Platforms(), ","); p != "tencent,openim" {
		t.Errorf("Platforms %q", p)
	}
}

func TestMayForward(t *testing.T) {
	cases := []struct {
		cfg  core.Config
		want bool
	}{
		{core.Config{}, false},
		{core.Config{DefaultAction: " Forward "}, true},
		{core.Config{Rules: []core.RuleConfig{{Action: "deny"}}}, false},
		{core.Config{Rules: []core.RuleConfig{{Action: "forward", Shadow: true}}}, false},
		{core.Config{Rules: []core.RuleConfig{{Action: "deny"}, {Action: "FORWARD"}}}, true},
	}
	for i, tc := range cases {
		if got := core.MayForward(tc.cfg); got != tc.want {
			t.Errorf("case %d: MayForward %v, want %v", i, got, tc.want)
		}
	}
}
