package report

import (
	"fmt"
	"time"
)

// LoadSample is the machine's load at one moment: the kernel's load
// averages and the CPUs online. On a shared machine it tells the reader
// how much else was competing with the measured processes.
type LoadSample struct {
	At     time.Time `json:"at"`
	Load1  float64   `json:"load1"`
	Load5  float64   `json:"load5"`
	Load15 float64   `json:"load15"`
	CPUs   int       `json:"cpus"`
}

func (s LoadSample) String() string {
	return fmt.Sprintf("%.2f %.2f %.2f, %d CPUs", s.Load1, s.Load5, s.Load15, s.CPUs)
}

// RepeatLoad is the load sampled before and after one repeat of one phase.
type RepeatLoad struct {
	// Phase is PhaseClosed (wrk, throughput) or PhaseOpen (fixed rate,
	// latency).
	Phase  string     `json:"phase"`
	Repeat int        `json:"repeat"`
	Before LoadSample `json:"before"`
	After  LoadSample `json:"after"`
}

// The phases of a run.
const (
	PhaseClosed = "closed-loop"
	PhaseOpen   = "open-loop"
)
