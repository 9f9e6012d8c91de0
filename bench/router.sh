#!/usr/bin/env bash
# Router throughput and latency: wrk against a small Go upstream directly,
# through bulut's router, and through nginx as a plain reverse proxy (with
# upstream keep-alive, as bulut's router reuses connections) to the same
# upstream, in one run. Targets: bulut's requests/s >= nginx's; bulut's p99
# under 1 ms more than direct. A second nginx does the work bulut's router
# must do too, as a reference: Heroku's request headers (X-Forwarded-Proto
# and -Port, X-Request-Start, X-Request-Id, Via both ways) and a line per
# request (a buffered access log; bulut's router logs to its log service).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	apt-get install -y wrk nginx >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk nginx >/dev/null; }
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-5}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
UP=127.0.0.1:18081 RT=127.0.0.1:18082 NG=127.0.0.1:18083 NH=127.0.0.1:18084
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/upstream" ./bench/router/upstream
go build -o "$tmp/proxy" ./bench/router/proxy
"$tmp/upstream" "$UP" & pids+=($!)
"$tmp/proxy" "$RT" "$UP" & pids+=($!)
cat >"$tmp/nginx.conf" <<CONF
worker_processes auto;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 4096; }
http {
	access_log off;
	upstream app { server $UP; keepalive 256; }
	server {
		listen $NG;
		location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host \$host;
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
		}
	}
	server {
		listen $NH;
		access_log $tmp/access.log combined buffer=64k flush=1s;
		location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host \$host;
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto \$scheme;
			proxy_set_header X-Forwarded-Port \$server_port;
			proxy_set_header X-Request-Start \$msec;
			proxy_set_header X-Request-Id \$request_id;
			proxy_set_header Via "1.1 nginx";
			add_header Via "1.1 nginx";
		}
	}
}
CONF
"$NGINX" -p "$tmp" -c "$tmp/nginx.conf" -g 'daemon off;' & pids+=($!)
for addr in "$UP" "$RT" "$NG" "$NH"; do
	for _ in $(seq 100); do curl -s -o /dev/null -H "Host: bench.localhost:18082" "http://$addr/" && break; sleep 0.1; done
done
curl -sf -o /dev/null -H "Host: bench.localhost:18082" "http://$RT/" || { echo "router not answering" >&2; exit 1; }

# run NAME ADDR: wrk's requests/s and p50/p99 in microseconds.
run() {
	local out
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "Host: bench.localhost:18082" "http://$2/")
	local rps p50 p99
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	echo "$1 $rps $(us "$p50") $(us "$p99")"
}
us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) f = 1; else if (v ~ /ms$/) f = 1000; else if (v ~ /s$/) f = 1000000; printf "%.0f", n * f }'; }

wrk -t"$THREADS" -c"$CONNS" -d2s -H "Host: bench.localhost:18082" "http://$RT/" >/dev/null # warm-up
wrk -t"$THREADS" -c"$CONNS" -d2s "http://$NG/" >/dev/null
wrk -t"$THREADS" -c"$CONNS" -d2s "http://$NH/" >/dev/null
# Rounds of direct, bulut, nginx back to back: this machine's speed
# drifts, so each round's ratios compare runs made seconds apart, and the
# median round is reported.
printf '%-6s %-12s %12s %10s %10s\n' round "" "requests/s" "p50 (µs)" "p99 (µs)"
for r in $(seq "$ROUNDS"); do
	read -r _ d_rps d_p50 d_p99 <<<"$(run direct "$UP")"
	read -r _ b_rps b_p50 b_p99 <<<"$(run bulut "$RT")"
	read -r _ n_rps n_p50 n_p99 <<<"$(run nginx "$NG")"
	read -r _ h_rps h_p50 h_p99 <<<"$(run nginx-heroku "$NH")"
	printf '%-6s %-12s %12.0f %10d %10d\n' "$r" direct "$d_rps" "$d_p50" "$d_p99" "" bulut "$b_rps" "$b_p50" "$b_p99" \
		"" nginx "$n_rps" "$n_p50" "$n_p99" "" nginx-heroku "$h_rps" "$h_p50" "$h_p99"
	echo "$b_rps $n_rps $d_rps $b_p99 $n_p99 $d_p99 $h_rps" >>"$tmp/rounds"
done
awk '{ print $1 / $2, $0 }' "$tmp/rounds" | sort -n | awk -v n="$ROUNDS" '
	{ line[NR] = $0; ratio[NR] = $1 }
	END {
		m = int((n + 1) / 2)
		printf "bulut/nginx requests/s, by round:"; for (i = 1; i <= n; i++) printf " %.2f", ratio[i]; printf "\n"
		split(line[m], f, " ")
		printf "median round: bulut/nginx requests/s %.2f (target >= 1); bulut/nginx-heroku %.2f; bulut/direct %.2f, nginx/direct %.2f\n", ratio[m], f[2] / f[8], f[2] / f[4], f[3] / f[4]
		printf "median round: p99 added over direct: bulut %.2f ms (target < 1 ms), nginx %.2f ms\n", (f[5] - f[7]) / 1000, (f[6] - f[7]) / 1000
	}'
echo "($(nproc) CPUs; $ROUNDS rounds of wrk -t$THREADS -c$CONNS -d$DURATION; wrk, upstream and proxies share them)"
