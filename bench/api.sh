#!/usr/bin/env bash
# API latency: GET /apps with 1,000 apps against GET /account on the same server.
set -euo pipefail
cd "$(dirname "$0")/.."
BULUT_BENCH=1 go test -count=1 -run TestAPILatency -v ./bench/ | grep -E '^GET|^(ok|FAIL)'
