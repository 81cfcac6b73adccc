package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the numbers were measured.
func Machine() []string {
	var out []string
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	out = append(out, model+", "+strconv.Itoa(runtime.NumCPU())+" CPUs, shared by the load generators and the servers (loopback, nothing pinned, GOMAXPROCS default)")
	if v, err := exec.Command("uname", "-sr").Output(); err == nil {
		out = append(out, strings.TrimSpace(string(v)))
	}
	out = append(out, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	if v, _ := exec.Command("wrk", "-v").CombinedOutput(); len(v) > 0 {
		out = append(out, strings.TrimSpace(strings.SplitN(string(v), "\n", 2)[0]))
	}
	return out
}
