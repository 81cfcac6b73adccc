// Command imgate-wasm builds imgate's WASM Traefik plugin (traefikwasm)
// into plugin.wasm: the Go toolchain's wasip1 build, then the rewrite that
// keeps it from crashing under load in Traefik v3.7.9 (see
// traefikwasm/build.LowerBulkMemory). Run it in this checkout:
//
//	go run ./cmd/imgate-wasm -o traefikwasm/plugin.wasm
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/imgate/imgate/traefikwasm/build"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "imgate-wasm:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	flags := flag.NewFlagSet("imgate-wasm", flag.ContinueOnError)
	flags.SetOutput(stderr)
	out := flags.String("o", "traefikwasm/plugin.wasm", "the plugin.wasm to write (default: traefikwasm/plugin.wasm, where .traefik.yml expects it)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	return build.Build(*out)
}
