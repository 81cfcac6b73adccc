// Command openloop drives one benchmark setup at a fixed request rate with
// a workload plan's callbacks and prints one result line for the runner
// (bench/cmd/benchrun): latency percentiles from each request's scheduled
// send time, counts, and the client's own send lag. See package
// bench/openloop.
//
//	go run ./bench/cmd/openloop -rate 10000 -d 5s -plan bench/workloads/mix-deny10.plan \
//	    -request-time 1700000000 -sign <hex> http://127.0.0.1:18083
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/imgate/imgate/bench/openloop"
	"github.com/imgate/imgate/bench/plan"
)

func main() {
	rate := flag.Float64("rate", 1000, "offered requests per second")
	duration := flag.Duration("d", 5*time.Second, "length of the schedule")
	conns := flag.Int("c", 64, "keep-alive connections")
	drain := flag.Duration("drain", 5*time.Second, "time after the schedule ends to wait for queued and unanswered requests; then the queued are dropped and the unanswered fail")
	planPath := flag.String("plan", "", "workload plan (bench/workloads/*.plan)")
	requestTime := flag.String("request-time", "", "fills {requestTime} in the plan's targets")
	sign := flag.String("sign", "", "fills {sign} in the plan's targets")
	flag.Parse()
	if err := run(os.Stdout, *planPath, flag.Arg(0), *requestTime, *sign, openloop.Config{Rate: *rate, Duration: *duration, Connections: *conns, Drain: *drain}); err != nil {
		fmt.Fprintln(os.Stderr, "openloop:", err)
		os.Exit(1)
	}
}

// run drives base with the plan and writes the result line to out.
func run(out io.Writer, planPath, base, requestTime, sign string, cfg openloop.Config) error {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("want the setup's base URL, http://host:port, got %q", base)
	}
	reqs, err := plan.Read(planPath)
	if err != nil {
		return err
	}
	cfg.Addr = u.Host
	cfg.Requests = openloop.Prepare(u.Host, reqs, requestTime, sign)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := openloop.Run(ctx, cfg)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, openloop.Format(res))
	return err
}
