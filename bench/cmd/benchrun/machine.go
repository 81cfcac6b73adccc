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
	out = append(out, model+", "+strconv.Itoa(runtime.NumCPU())+" CPUs, shared by wrk and the servers (loopback, nothing pinned, GOMAXPROCS default)")
	if v, err := exec.Command("uname", "-sr").Output(); err == nil {
		out = append(out, strings.TrimSpace(string(v)))
	}
	out = append(out, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	if v, _ := exec.Command("wrk", "-v").CombinedOutput(); len(v) > 0 {
		out = append(out, strings.TrimSpace(strings.SplitN(string(v), "\n", 2)[0]))
	}
	return out
}

// Revision names the code measured: the commit, and whether the working
// tree had changes on top of it.
func Revision(repo string) string {
	cmd := exec.Command("git", "rev-parse", "--short", "HEAD")
	cmd.Dir = repo
	head, err := cmd.Output()
	if err != nil {
		return "code revision unknown (not a git checkout)"
	}
	rev := "code at commit " + strings.TrimSpace(string(head))
	// The run's own outputs do not count: they are rewritten by every run.
	cmd = exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", ".",
		":!bench/RESULTS.md", ":!bench/results.json", ":!bench/results.png", ":!bench/profiles")
	cmd.Dir = repo
	if dirty, err := cmd.Output(); err == nil && len(strings.TrimSpace(string(dirty))) > 0 {
		rev += " plus uncommitted changes to " + strconv.Itoa(len(strings.Split(strings.TrimSpace(string(dirty)), "\n"))) + " tracked files"
	}
	return rev
}
