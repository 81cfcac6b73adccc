package openloop

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// prSetTimerSlack is prctl's PR_SET_TIMERSLACK.
const prSetTimerSlack = 29

// precise dedicates the calling goroutine's thread to the schedule and
// cuts its timer slack from the default 50 µs to 1 µs. Go's own timers
// wake about 1 ms late on an idle Linux process (the netpoller waits in
// whole milliseconds), which at thousands of requests per second would
// turn an even schedule into bursts. The thread stays locked, so it exits
// with the goroutine and the changed slack never serves other goroutines.
func precise() {
	runtime.LockOSThread()
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1000, 0)
}

// maxSleep bounds one nanosleep: the sleeping thread keeps its P (see
// sleep), so a garbage collection waits at most this long for it.
const maxSleep = 200 * time.Microsecond

// sleep blocks the thread in nanosleep without telling the Go scheduler:
// a blocking syscall that released the P would hand the P to another
// thread and back on every wake-up, several futex round trips per request
// at these rates. Run raises GOMAXPROCS by one so the sleeping thread does
// not take a P from the workers.
func sleep(d time.Duration) {
	if d > maxSleep {
		d = maxSleep
	}
	ts := syscall.NsecToTimespec(int64(d))
	syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
}
