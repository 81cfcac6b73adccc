#!/usr/bin/env bash
# Builds a real Traefik binary from the Go module proxy and prints its path.
# The binary is cached under $IMGATE_CACHE (default ~/.cache/imgate), so only
# the first run on a machine pays for the build (about 12 minutes on 2 cores);
# later runs print the cached path at once.
#   .ci/traefik-build.sh            build (or reuse) Traefik v3.7.9
#   TRAEFIK_VERSION=v3.7.9 ...      the version to build
# Why not `go install ...@version`: Traefik's go.mod has replace directives,
# so it must be built as the main module. Its go.mod also replaces
# github.com/traefik/traefik/dynamic/ext with ./pkg/config/dynamic/ext, a
# nested module that the module zip leaves out; at v3.7.9 it holds two empty
# extension-point types, written here. //go:embed needs a file in
# webui/static; the dashboard is not needed, so a placeholder goes there.
set -euo pipefail
version=${TRAEFIK_VERSION:-v3.7.9}
cache=${IMGATE_CACHE:-$HOME/.cache/imgate}
bin="$cache/traefik-$version/traefik"
if [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; then
	echo "$bin"
	exit 0
fi
export PATH=/usr/local/go/bin:$PATH
mkdir -p "$cache"
# One build at a time per machine: a second caller (another CI run, a
# developer) waits for the first and then reuses its binary.
if command -v flock >/dev/null; then
	exec 9>"$cache/traefik-$version.lock"
	flock 9
	if [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; then
		echo "$bin"
		exit 0
	fi
fi
work=$(mktemp -d "$cache/traefik-build.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

dir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/traefik/traefik/v3@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] || { echo "traefik-build: go mod download gave no source folder" >&2; exit 1; }
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"
if [ ! -f pkg/config/dynamic/ext/go.mod ]; then
	mkdir -p pkg/config/dynamic/ext
	printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.22\n' >pkg/config/dynamic/ext/go.mod
	cat >pkg/config/dynamic/ext/ext.go <<'GO'
// Package ext holds Traefik's dynamic-configuration extension points.
package ext

// HTTP is the HTTP extension point.
type HTTP struct{}

// Router is the router extension point.
type Router struct{}
GO
fi
mkdir -p webui/static
[ -n "$(ls -A webui/static)" ] || echo 'dashboard not built' >webui/static/index.html
echo "traefik-build: building Traefik $version (first run on this machine: about 12 minutes)" >&2
start=$SECONDS
CGO_ENABLED=0 go build -trimpath -o "$work/traefik" \
	-ldflags "-X github.com/traefik/traefik/v3/pkg/version.Version=$version" ./cmd/traefik >&2
mkdir -p "$(dirname "$bin")"
mv "$work/traefik" "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "traefik-build: built in $((SECONDS - start))s" >&2
echo "$bin"
