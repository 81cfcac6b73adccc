#!/bin/sh
# Runs each core fuzz target for a short while (FUZZTIME, default 10s):
# the two platform decoders, the compiled body scanner against
# encoding/json, config (rules included) and list files.
# Plain `go test ./core/` already runs the seed corpora; this mutates them.
# A failing input is saved under core/testdata/fuzz/<Target>/ and replayed by
# every later `go test` run: commit it with the fix.
set -eu
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
for target in FuzzTencent FuzzOpenIM FuzzScanBody FuzzConfig FuzzListFile; do
	echo "== $target ($FUZZTIME)"
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -parallel 2 ./core/
done
