#!/usr/bin/env bash
# Dyno start latency (Go and gunicorn apps) against the same Go binary
# started directly, web=0->10, server memory per dyno, and a warm Flask
# deploy until the new code serves.
set -euo pipefail
cd "$(dirname "$0")/.."
BULUT_BENCH=1 go test -count=1 -timeout 10m -run TestDynoStart -v ./bench/ | grep -vE '^(=== RUN|--- PASS|PASS)'
