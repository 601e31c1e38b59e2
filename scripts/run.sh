#!/usr/bin/env bash
# Runs the daemon on this machine: installs Chromium and Redis if missing,
# starts Redis, builds and starts shixincheck. Flags go to `shixincheck serve`;
# try --demo to check against the built-in court-site simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
mkdir -p bin
go build -o bin/shixincheck ./cmd/shixincheck
exec bin/shixincheck serve "$@"
