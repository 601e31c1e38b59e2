#!/usr/bin/env bash
# Runs every test against real Redis, real PostgreSQL, real Chromium and the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/postgres.sh
go vet ./...
go test -count=1 -timeout 30m "$@" ./...
