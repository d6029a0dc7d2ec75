#!/usr/bin/env bash
# `make bench`, the public portal's goals (PERFORMANCE.md):
#   P10  the WASM bundle (and its JS glue and CSS): raw, gzip -9 and brotli -q 11 bytes; and the
#        screener's WASM-free path: the check answered by plain form posts with curl.
#   P8   the screener's evaluation endpoint (POST /revisa: an answer in, the verdicts out, as the
#        production binary serves it with every layer) under 256 connections on loopback, with
#        wrk; baseline: a bare axum handler answering the same post, on the same machine, in
#        the same run.
#   ANGEL_BENCH_SECONDS   measured seconds per target (default 15, after a 5 s warm-up)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source .ci/env.sh
.ci/build.sh >/dev/null
cargo build --quiet --locked --profile server-release -p angel-server --example bare_screener
work=$(mktemp -d /tmp/angel-portal-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "=== P10: the browser bundle (target/site/pkg)"
printf '%-14s %10s %10s %10s\n' file raw gzip brotli
for f in target/site/pkg/angel.wasm target/site/pkg/angel.js target/site/pkg/angel.css; do
  printf '%-14s %10d %10d %10d\n' "$(basename "$f")" "$(wc -c <"$f")" \
    "$(gzip -9 -c "$f" | wc -c)" "$(brotli -q 11 -c "$f" | wc -c)"
done
echo "goal: main bundle <= 300 kB brotli; anchor: the Leptos hackernews example, ~600 kB raw (PERFORMANCE.md, not built here)"

# The production binary over a demo database.
bin=target/server-release/angel
port=$(.ci/free-port.sh)
base="http://127.0.0.1:$port"
export ANGEL_DATA_DIR="$work/data" ANGEL_BIND="127.0.0.1:$port" ANGEL_SITE_ROOT="$root/target/site"
"$bin" migrate >/dev/null && "$bin" keygen >/dev/null && "$bin" seed --demo >/dev/null
"$bin" serve >"$work/angel.log" 2>&1 &
pids+=($!)
bare_port=$(.ci/free-port.sh)
bare="http://127.0.0.1:$bare_port"
target/server-release/examples/bare_screener "127.0.0.1:$bare_port" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && curl -fsS -o /dev/null -X POST "$bare/revisa" 2>/dev/null && break
  sleep 0.1
done

# A 70-year-old in Iztapalapa, 12 years in the city, checking "I turned 68": the same body to
# both (the CSRF field and cookie are any equal pair; the access layer checks they match).
body="csrf=bench&evento=CUMPLI_68&age=70&borough=09007&residence_years=12"
post() {
  curl -sS -o "$work/answer.html" -w '%{http_code} %{size_download}\n' -X POST "$1/revisa" \
    -H 'Content-Type: application/x-www-form-urlencoded' -H "Origin: $1" \
    -H 'Cookie: angel_csrf=bench' --data "$body"
}
echo
echo "=== the screener without JavaScript (WASM-free path)"
read -r status size < <(post "$base")
verdicts=$(grep -o 'data-verdict="[a-z_]*"' "$work/answer.html" | sort | uniq -c | tr -s ' ' | paste -sd, -)
echo "POST /revisa with curl: HTTP $status, $size bytes, verdicts:$verdicts"
[ "$status" = 200 ] && grep -q 'data-verdict="eligible"' "$work/answer.html" \
  || { echo "the screener did not answer with verdicts"; exit 1; }
read -r status size < <(post "$bare")
[ "$status" = 200 ] || { echo "the bare handler did not answer"; exit 1; }

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = "$body"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "angel_csrf=bench"
LUA
seconds=${ANGEL_BENCH_SECONDS:-15}
# Requests/s, p50 and p99 in ms, and the count of non-2xx answers, from wrk's report.
measure() {
  local url=$1
  wrk -t2 -c256 -d5s -s "$work/post.lua" -H "Origin: ${url%/revisa}" "$url" >/dev/null
  wrk -t2 -c256 -d"${seconds}s" --latency -s "$work/post.lua" -H "Origin: ${url%/revisa}" "$url" >"$work/wrk.txt"
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    /Socket errors/ { errors = $0 }
    END { printf "%.0f %.2f %.2f %d %s\n", rps, p50, p99, bad + 0, errors }
  ' "$work/wrk.txt"
}
echo
echo "=== P8: POST /revisa under 256 connections (wrk, 2 threads, ${seconds} s after a 5 s warm-up, loopback, this machine)"
read -r bare_rps bare_p50 bare_p99 bare_bad bare_err < <(measure "$bare/revisa")
read -r rps p50 p99 bad err < <(measure "$base/revisa")
printf '%-34s %10s %9s %9s %8s\n' target req/s p50_ms p99_ms non-2xx
printf '%-34s %10s %9s %9s %8s\n' "bare axum handler (baseline)" "$bare_rps" "$bare_p50" "$bare_p99" "$bare_bad"
printf '%-34s %10s %9s %9s %8s\n' "Ángel POST /revisa" "$rps" "$p50" "$p99" "$bad"
[ -z "$bare_err$err" ] || echo "socket errors: bare [$bare_err] angel [$err]"
awk -v a="$rps" -v b="$bare_rps" 'BEGIN { printf "ratio: %.1f%% of the bare handler (goal >= 50%%; absolute goal >= 8,000 req/s, p99 <= 10 ms)\n", 100 * a / b }'
