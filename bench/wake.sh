#!/usr/bin/env bash
# Wake time of sleeping apps (a Go app and a gunicorn Flask app), from a
# frozen dyno (tier 1) and a stopped one (tier 2): first byte of the
# waking request. Needs root (cgroup freezer).
#
# 1. End to end: a real `bulut server` (the built binary, --idle-timeout 3s,
#    --deep-sleep-after 3s), the apps deployed with git push (Flask and
#    gunicorn from the local wheelhouse), requests through the router on
#    new connections; a stopped app's wake is compared with its own boot
#    on the host. BULUT_WAKE_ROUNDS sets the rounds (7).
# 2. At the scheduler (Wake, then the dyno's answer: no router hop); needs
#    Debian's python3-gunicorn and python3-flask.
set -euo pipefail
cd "$(dirname "$0")/.."
BULUT_WAKE_BENCH=1 go test ./bench/ -run TestWakeThroughRouter -v -count=1 -timeout 15m | grep -vE '^(=== RUN|--- PASS|PASS|ok )'
BULUT_WAKE_BENCH=1 go test ./internal/scheduler/ -run TestLocalWakeTime -v -count=1 -timeout 10m
