#!/usr/bin/env bash
# Push-to-release times with the real git client against a real server:
# a Procfile-only app, and the tutorial-shaped Flask app cold (empty build
# cache) and warm (second push). The reference is a push of the same
# commit to a non-main branch (stored, not built): git's own cost.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null && wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/bulut" ./cmd/bulut
wheels=$tmp/wheels
"$root/../shared/tools/make-wheelhouse" --out "$wheels" --seed-app >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export HOME=$tmp/home BULUT_API_URL=http://api.localhost:$port
mkdir -p "$HOME"
git config --global user.name bench && git config --global user.email bench@example.com
git config --global init.defaultBranch main
PIP_FIND_LINKS=$wheels PIP_NO_INDEX=1 "$tmp/bulut" server --data-dir "$tmp/data" --listen "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/bulut/info" && break; sleep 0.1; done
printf 'bench@example.com\nbench-password\n' | "$tmp/bulut" signup >/dev/null 2>&1

now() { date +%s.%N; }
# timed_push DIR REFSPEC: seconds taken by `git push bulut REFSPEC`.
timed_push() {
	local start end
	start=$(now)
	git -C "$1" push -q bulut "$2" >"$tmp/push.out" 2>&1 || { cat "$tmp/push.out"; exit 1; }
	end=$(now)
	echo "$end - $start" | bc -l
}
new_app() { # new_app NAME: a git repo with an app, files from stdin (as a shell snippet)
	mkdir -p "$tmp/$1" && cd "$tmp/$1" && git init -q && eval "$(cat)" && git add -A && git commit -qm init
	"$tmp/bulut" apps:create "$1" >/dev/null 2>&1
	cd "$root"
}

new_app procfile-app <<'APP'
printf 'web: python3 -m http.server $PORT\n' > Procfile
echo hello > index.html
APP
ref=$(timed_push "$tmp/procfile-app" main:reference)
procfile=$(timed_push "$tmp/procfile-app" main)

new_app flask-app <<'APP'
printf '[packages]\nflask = "*"\ngunicorn = "*"\n\n[requires]\npython_version = "3.9"\n' > Pipfile
echo python-3.9.0 > runtime.txt
echo 'web: gunicorn app:app' > Procfile
printf 'from flask import Flask\napp = Flask(__name__)\n\n@app.route("/")\ndef index():\n    return "Hello from bulut"\n' > app.py
APP
cold=$(timed_push "$tmp/flask-app" main)
echo '# change' >> "$tmp/flask-app/app.py"
git -C "$tmp/flask-app" commit -qam change
warm=$(timed_push "$tmp/flask-app" main)

printf 'reference: push without a build      %6.2f s\n' "$ref"
printf 'Procfile-only app, push to release   %6.2f s  (%.1fx the reference; target < 1 s)\n' "$procfile" "$(echo "$procfile / $ref" | bc -l)"
printf 'Flask app, cold cache                %6.2f s  (%.1fx; target < 3.5 s, Piku 5.3 s)\n' "$cold" "$(echo "$cold / $ref" | bc -l)"
printf 'Flask app, warm cache                %6.2f s  (%.1fx; target < 1.5 s, Piku 4.2 s)\n' "$warm" "$(echo "$warm / $ref" | bc -l)"
