package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"time"

	"github.com/imgate/imgate/bench/report"
)

// Load is the closed-loop wrk load every setup gets.
type Load struct {
	Threads, Conns int
	Duration       time.Duration
	Warmup         time.Duration
}

func (l Load) String() string {
	warmup := "no warm-up"
	if l.Warmup > 0 {
		warmup = fmt.Sprintf("after a %s warm-up on the same connections count", l.Warmup)
	}
	return fmt.Sprintf("`wrk -t%d -c%d -d%s` (keep-alive, %s), Lua script `bench/lua/callbacks.lua`", l.Threads, l.Conns, l.Duration, warmup)
}

// Wrk drives url with the plan for d from the measured tree at src and
// returns the parsed result with wrk's own CPU time.
func Wrk(ctx context.Context, src string, load Load, d time.Duration, url, plan, requestTime, sign string) (report.WrkRun, error) {
	if d < time.Second || d%time.Second != 0 {
		return report.WrkRun{}, fmt.Errorf("wrk takes whole seconds, not %s", d)
	}
	args := []string{
		"-t" + strconv.Itoa(load.Threads), "-c" + strconv.Itoa(load.Conns),
		"-d" + strconv.Itoa(int(d/time.Second)) + "s",
		"--timeout", "5s",
		"-s", "bench/lua/callbacks.lua", url, "--", plan, requestTime, sign,
	}
	cmd := exec.CommandContext(ctx, "wrk", args...)
	cmd.Dir = src
	out, err := cmd.CombinedOutput()
	if err != nil {
		return report.WrkRun{}, fmt.Errorf("wrk %v: %w\n%s", args, err, out)
	}
	run, err := report.ParseWrk(string(out))
	if err != nil {
		return run, fmt.Errorf("%w\n%s", err, out)
	}
	run.ClientCPU = processCPU(cmd)
	return run, nil
}

// processCPU is the user plus system CPU time of a finished command.
func processCPU(cmd *exec.Cmd) time.Duration {
	if cmd.ProcessState == nil {
		return 0
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}
