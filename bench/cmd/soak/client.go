package main

import (
	"fmt"
	"time"

	"github.com/imgate/imgate/bench/openloop"
	"github.com/imgate/imgate/bench/soak"
)

// clientResult is what the load generator saw.
func clientResult(r openloop.Result) soak.Client {
	return soak.Client{
		Scheduled: r.Scheduled, Completed: r.Completed, Errors: r.Errors, Dropped: r.Dropped, NonOK: r.ErrStatus,
		Latency: soak.Percentiles{N: int(r.Completed), P50: r.P50, P90: r.P90, P99: r.P99, P999: r.P999, Max: r.Max},
	}
}

// failure describes a callback that got no answer, with its times so
// that it can be set against the reloads and faults around it.
func failure(c soak.Call, r openloop.Reply) string {
	return fmt.Sprintf("%s sent %s: no answer after %s: %v", c.Name, r.Sent.Format("15:04:05.000"), r.Done.Sub(r.Sent).Round(time.Millisecond), r.Err)
}
