package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/redistest"
)

// BenchmarkDecide is one join callback decided by imgate's engine with its
// rate rules' buckets in memory and in a real redis-server on loopback,
// one at a time (the round trip a decision adds) and from many goroutines
// at once (what pipelining makes of it), with one rate rule and with three
// settled by one script. It runs when IMGATE_REDIS_SERVER names
// redis-server:
//
//	IMGATE_REDIS_SERVER=redis-server go test -bench . ./bench/storebench
func BenchmarkDecide(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	for _, rules := range []int{1, 3} {
		for _, mode := range []string{modeMemory, modeRedis} {
			prefix := "bench-decide-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
			// A roomy timeout: the benchmark measures the shared path, not
			// the failure policy.
			e, err := core.New(benchConfig(mode, srv.URL, prefix, rules, "900ms", 0))
			if err != nil {
				b.Fatal(err)
			}
			inputs := make([]*core.Input, 0, actors)
			for i := 0; i < actors; i++ {
				inputs = append(inputs, &core.Input{Method: "POST", RawQuery: "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", Body: []byte(joinBody(i))})
			}
			name := mode + "/rules=" + strconv.Itoa(rules)
			check := func(b *testing.B, out *core.Outcome) {
				if out.Result != core.ResultAllow || out.StoreFailure != "" {
					b.Fatalf("%s: %s (store %q: %v)", name, out.Result, out.StoreFailure, out.StoreErr)
				}
			}
			check(b, e.Decide(inputs[0]))
			b.Run(name+"/sequential", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					check(b, e.Decide(inputs[i%actors]))
				}
			})
			b.Run(name+"/parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(32)
				b.RunParallel(func(pb *testing.PB) {
					for i := 0; pb.Next(); i++ {
						check(b, e.Decide(inputs[(i*7919)%actors]))
					}
				})
			})
			e.Close()
		}
	}
}
