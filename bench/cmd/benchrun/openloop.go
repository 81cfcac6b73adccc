package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"time"

	"github.com/imgate/imgate/bench/openloop"
	"github.com/imgate/imgate/bench/report"
)

// OpenLoad is the open-loop load: the client, its connections and the
// length of each fixed-rate run.
type OpenLoad struct {
	Conns    int
	Duration time.Duration
}

func (l OpenLoad) String() string {
	return fmt.Sprintf("`bench/cmd/openloop -c%d -d%s` (keep-alive connections opened before the schedule starts, requests sent on an even schedule at the offered rate, latency from each request's scheduled send time)", l.Conns, l.Duration)
}

// OpenLoop drives url at rate for the load's duration with the open-loop
// client and returns its result with the client's CPU time.
func OpenLoop(ctx context.Context, client string, load OpenLoad, rate float64, url, plan, requestTime, sign string) (report.OpenLoopRun, error) {
	args := []string{
		"-rate", strconv.FormatFloat(rate, 'f', 1, 64), "-d", load.Duration.String(), "-c", strconv.Itoa(load.Conns),
		"-plan", plan, "-request-time", requestTime, "-sign", sign, url,
	}
	cmd := exec.CommandContext(ctx, client, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return report.OpenLoopRun{}, fmt.Errorf("openloop %v: %w\n%s", args, err, out)
	}
	res, err := openloop.Parse(string(out))
	if err != nil {
		return report.OpenLoopRun{}, fmt.Errorf("%w\n%s", err, out)
	}
	return report.OpenLoopRun{Result: res, ClientCPU: processCPU(cmd)}, nil
}
