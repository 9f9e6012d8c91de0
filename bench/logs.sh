#!/usr/bin/env bash
# Logs: lines per second through the logplex with a tail attached (and a
# syslog drain, and 4 producers) against a mutex-guarded slice and a channel
# in the same process; tail and drain latency at 10,000 lines/s; the
# package's Go benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
BULUT_BENCH=1 go test -count=1 -timeout 10m -run 'TestLogsThroughput|TestLogsTailLatency' -v ./bench/ | grep -E '^(reference|logplex|tail|  syslog)|^(ok|FAIL)|--- FAIL|_test.go'
go test -run '^$' -bench . -benchmem ./internal/logplex/ | grep -E '^Benchmark|^(ok|FAIL)'
