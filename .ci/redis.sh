#!/usr/bin/env bash
# Prints the path of the redis-server the shared-store tests run (core,
# the plugin, Caddy, internal/replicas: each test starts its own server on
# a free loopback port, in a temporary directory, and stops it after).
# When redis-server is missing it installs Debian's package with apt-get if
# it can (root, or sudo without a password); otherwise it fails loudly, so
# that no Redis test is silently skipped. Installing the package may start
# a system Redis on port 6379; the tests never use it.
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			sudo="sudo"
		else
			sudo="none"
		fi
	fi
	if [ "$sudo" = none ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "redis.sh: redis-server is missing and cannot be installed here (needs apt-get as root);" >&2
		echo "redis.sh: install it (Debian/Ubuntu: sudo apt-get install redis-server) and run again" >&2
		exit 1
	fi
	echo "redis.sh: installing redis-server with apt-get" >&2
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi
path=$(command -v redis-server)
echo "redis.sh: $("$path" --version)" >&2
echo "$path"
