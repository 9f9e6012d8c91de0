#!/usr/bin/env bash
# Binary size and the idle server's resident memory, against the 30 MB
# target (Piku's processes take 23-32 MB on the same kind of machine).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null && wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$tmp/bulut" ./cmd/bulut
CGO_ENABLED=0 go build -o "$tmp/bulut-debug" ./cmd/bulut
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$tmp/bulut" server --data-dir "$tmp/data" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/bulut/info" && break; sleep 0.1; done
# One request to each part, then let it settle.
curl -s -o /dev/null "http://127.0.0.1:$port/bulut/info"
curl -s -o /dev/null "http://dashboard.localhost:$port/login"
curl -s -o /dev/null "http://nope.localhost:$port/"
sleep 5
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
size() { stat -c %s "$1"; }
printf 'binary (stripped)  %6.1f MB\n' "$(echo "$(size "$tmp/bulut") / 1048576" | bc -l)"
printf 'binary (default)   %6.1f MB\n' "$(echo "$(size "$tmp/bulut-debug") / 1048576" | bc -l)"
printf 'idle server RSS    %6.1f MB  (%.2fx the 30 MB target)\n' "$(echo "$rss_kb / 1024" | bc -l)" "$(echo "$rss_kb / 1024 / 30" | bc -l)"
file "$tmp/bulut" | grep -q 'statically linked' && echo "static binary: yes" || echo "static binary: NO"
