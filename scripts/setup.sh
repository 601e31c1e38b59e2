#!/usr/bin/env bash
# Installs and starts what shixincheck needs on a Debian machine, when missing:
# Chromium (from Debian, never a browser download), a CJK font for screenshots,
# Redis. Safe to run again. Needs root (or sudo) only when something is missing.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
[ -n "$(fc-list :lang=zh 2>/dev/null)" ] || need+=(fonts-wqy-zenhei)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "setup: starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/shixincheck-redis.log
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# Go: the one on PATH or in /usr/local/go when it is 1.26 or later; otherwise
# the toolchain go.mod names, fetched once from the Go module proxy (Debian's
# golang-go is too old) and checked against the hashes pinned here.
go_ok() { "$1" version 2>/dev/null | grep -Eq 'go1\.(2[6-9]|[3-9][0-9])'; }
go_version=1.26.8
declare -A go_sha256=(
  [amd64]=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
  [arm64]=02b36b6787b3ac767668f630e2998df45a3b1f9ffee08d1bf3ef6487cd658d99
)
go_dir=${SHIXINCHECK_GO_DIR:-$HOME/.cache/shixincheck/go$go_version}
if ! go_ok go; then
  if go_ok /usr/local/go/bin/go; then
    export PATH=/usr/local/go/bin:$PATH
  elif go_ok "$go_dir/bin/go"; then
    export PATH=$go_dir/bin:$PATH
  else
    arch=$(dpkg --print-architecture)
    [ -n "${go_sha256[$arch]:-}" ] || { echo "setup: no Go $go_version download is pinned for $arch; install Go 1.26"; exit 1; }
    missing=()
    command -v curl >/dev/null 2>&1 || missing+=(curl ca-certificates)
    command -v unzip >/dev/null 2>&1 || missing+=(unzip)
    if [ ${#missing[@]} -gt 0 ]; then
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    proxy=${GOPROXY:-https://proxy.golang.org}; proxy=${proxy%%,*}; proxy=${proxy%%|*}
    echo "setup: fetching Go $go_version ($arch) from $proxy"
    tmp=$(mktemp -d)
    curl -fsSL -o "$tmp/go.zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$go_version.linux-$arch.zip"
    echo "${go_sha256[$arch]}  $tmp/go.zip" | sha256sum -c --quiet
    unzip -q "$tmp/go.zip" -d "$tmp"
    mkdir -p "$(dirname "$go_dir")"
    rm -rf "$go_dir"
    mv "$tmp/golang.org/toolchain@v0.0.1-go$go_version.linux-$arch" "$go_dir"
    rm -rf "$tmp"
    # Module zips carry no file modes.
    chmod +x "$go_dir"/bin/* "$go_dir"/pkg/tool/*/*
    export PATH=$go_dir/bin:$PATH
  fi
fi
go_ok go || { echo "setup: Go 1.26 or later is needed"; exit 1; }
