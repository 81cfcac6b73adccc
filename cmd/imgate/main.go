// Command imgate is imgate's offline tool for operators:
//
//	imgate check -config <Caddyfile|caddy.json|dynamic.yml|dynamic.toml> <case file or folder>...
//	imgate sign  -token-env VAR <Tencent callback URL> [-send]
//
// check loads a gateway configuration the way Caddy or Traefik would, replays
// sample callbacks through imgate's engine and compares each reply with the
// case's expected decision, so a rule change is tested in CI before it is
// deployed. sign adds a valid RequestTime and Sign to a Tencent callback URL
// and can send a vendor sample to a live gateway.
//
// It is a standalone command rather than a Caddy subcommand because Traefik
// users have no Caddy binary; it reads Caddyfiles all the same, through
// Caddy's own adapter with the standard modules and the imgate directive
// linked in. See docs/tools.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Exit codes: every case passed; a case failed; the command could not run
// (usage, an unreadable or invalid config or case file).
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// errReported marks a usage error the flag package already printed.
var errReported = errors.New("usage error, reported")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "sign":
		return runSign(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "imgate: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  imgate check -config <file> [flags] <case file or folder>...
      replay callbacks through a Caddyfile, Caddy JSON, imgate JSON or
      Traefik dynamic (YAML, TOML) config and check the expected decisions
  imgate sign (-token-env VAR | -token-file FILE | -token TOKEN) [-send] [-body FILE] <url>
      print a Tencent callback URL with RequestTime and Sign; -send posts a
      sample to it and prints the exchange

Run "imgate check -h" or "imgate sign -h" for the flags; docs/tools.md has examples.
`)
}

// parseError keeps flag.ErrHelp and marks any other flag error, which the
// flag package printed with the usage, as reported.
func parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errReported
}

// usageError prints err for command unless it was reported already, and
// returns the usage exit code (0 for -h).
func usageError(stderr io.Writer, command string, err error) int {
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case !errors.Is(err, errReported):
		fmt.Fprintf(stderr, "imgate %s: %v\n", command, err)
	}
	return exitUsage
}
