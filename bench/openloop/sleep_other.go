//go:build !linux

package openloop

import "time"

// precise does nothing outside Linux; the schedule uses Go's timers.
func precise() {}

func sleep(d time.Duration) { time.Sleep(d) }
