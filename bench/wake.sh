#!/bin/sh
# Wake time of sleeping apps (a Go app and a gunicorn Flask app), from a
# frozen dyno (tier 1) and a stopped one (tier 2): first byte of the
# waking request. Needs root (cgroup freezer) and Debian's python3-gunicorn
# and python3-flask.
set -e
cd "$(dirname "$0")/.."
BULUT_WAKE_BENCH=1 go test ./internal/scheduler/ -run TestLocalWakeTime -v -count=1 -timeout 10m
