package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Server is a process the run started to serve a setup or an upstream:
// a Proc, or a Traefik (TraefikServer).
type Server interface {
	// Label names it in messages, e.g. "setup-C".
	Label() string
	// LogPath is the file its output goes to.
	LogPath() string
	// Pid is its process id, whose CPU time counts as the setup's.
	Pid() int
	// Exited reports whether it has died.
	Exited() bool
	// Stop ends it (by its own pid) and waits.
	Stop()
}

// Proc is a server started for the run; its output goes to a log file.
type Proc struct {
	Name string
	Log  string
	cmd  *exec.Cmd
	done chan error
}

// Start runs name with args, its output in logDir/<name>.log, and waits
// until it accepts connections on port.
func Start(ctx context.Context, name, program string, args, env []string, logDir string, port int) (*Proc, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s: port %d is already in use (another run? pick -port-base)", name, port)
	}
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(program, args...)
	cmd.Env = append(os.Environ(), env...)
	// Caddy keeps its state under XDG dirs; keep them out of $HOME.
	cmd.Env = append(cmd.Env, "XDG_DATA_HOME="+logDir, "XDG_CONFIG_HOME="+logDir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan error, 1)}
	go func() {
		p.done <- cmd.Wait()
		logFile.Close()
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case werr := <-p.done:
			return nil, fmt.Errorf("%s exited before listening on %s (%v); see %s", name, addr, werr, logPath)
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("%s did not listen on %s within 30s; see %s", name, addr, logPath)
		}
	}
}

// Label is the name the process was started under.
func (p *Proc) Label() string { return p.Name }

// LogPath is the file its output goes to.
func (p *Proc) LogPath() string { return p.Log }

// Pid is its process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stop ends the process this run started (by its own pid) and waits.
func (p *Proc) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Exited reports whether the process has died.
func (p *Proc) Exited() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return true
	default:
		return false
	}
}
