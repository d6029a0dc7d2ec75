#!/usr/bin/env bash
# `make test`: every stage runs, each prints one summary line at the end, and any failure
# makes the script exit non-zero.
#   1. tools      install what is missing (.ci/tools.sh)
#   2. sqlite     cargo test --workspace (unit + integration on SQLite files)
#   3. postgres   the integration suite again on a private PostgreSQL cluster
#   4. build      cargo leptos build --release (hydrated site + server)
#   5. e2e        end2end/ in Debian Chromium against the release build
#   6. fuzz       schemathesis against the agency API of that same server (.ci/fuzz-api.sh)
set -uo pipefail
# One-off builds: incremental caches cost gigabytes and save nothing here.
export CARGO_INCREMENTAL=0
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# A fresh clone's target/ reaches 8.1 GB (debug tests 4.7 GB, release site and server 3.1 GB;
# it was over 25 GB while debug builds kept line tables, and two CI runs ran out of disk): say
# so up front instead of failing half-way with "No space left on device".
free_kb=$(df -Pk . | awk 'NR==2 {print $4}')
if [ "${free_kb:-0}" -lt 12000000 ]; then
  echo "warning: only $((free_kb / 1024 / 1024)) GB free on $(df -P . | awk 'NR==2 {print $6}'); make test needs about 10 GB" >&2
fi
work=$(mktemp -d /tmp/angel-test.XXXXXX)
chmod 755 "$work"
summary=()
failed=0
server_pid=""

cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  .ci/postgres.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

stage() { # name command...
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name"
  if "$@"; then
    summary+=("$(printf '%-9s ok      %4ds' "$name" $((SECONDS - start)))")
  else
    summary+=("$(printf '%-9s FAILED  %4ds' "$name" $((SECONDS - start)))")
    failed=1
  fi
}

tools() { source .ci/env.sh; }

# One test at a time: with several apps on separate tokio runtimes in one process, about one
# run in ten had a Leptos render that never completed (README, "Known issues").
sqlite_suite() { cargo test --workspace --locked -- --test-threads=1; }

postgres_suite() {
  local port url
  port=$(.ci/free-port.sh)
  url=$(.ci/postgres.sh start "$work/pg" "$port") || return 1
  # The very command of the sqlite stage, so nothing rebuilds; the tests that touch a database
  # switch to PostgreSQL (unit tests run again in milliseconds).
  ANGEL_TEST_DATABASE_URL=$url cargo test --workspace --locked -- --test-threads=1
}

build() { .ci/build.sh; }

e2e_base=""
e2e() {
  local port base bin=target/server-release/angel
  [ -x "$bin" ] || { echo "e2e: no release build"; return 1; }
  port=$(.ci/free-port.sh)
  base="http://127.0.0.1:$port"
  export ANGEL_DATA_DIR="$work/e2e-data" ANGEL_BIND="127.0.0.1:$port" ANGEL_SITE_ROOT="$root/target/site"
  # The fuzz stage calls the API of this server as fast as it can: no throttling for it.
  export ANGEL_API_BURST=10000 ANGEL_API_PER_SECOND=1000
  "$bin" migrate >/dev/null && "$bin" keygen >/dev/null && "$bin" seed --demo >/dev/null || return 1
  "$bin" serve >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "$base/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  e2e_base=$base
  ANGEL_E2E_URL=$base node --test --test-concurrency=1 end2end/ || { tail -n 40 "$work/server.log"; return 1; }
}

fuzz() {
  [ -n "$e2e_base" ] || { echo "fuzz: the e2e server did not start"; return 1; }
  .ci/fuzz-api.sh "$e2e_base" target/server-release/angel || { tail -n 40 "$work/server.log"; return 1; }
}

stage tools tools
if [ $failed = 0 ]; then
  stage sqlite sqlite_suite
  stage postgres postgres_suite
  stage build build
  stage e2e e2e
  stage fuzz fuzz
fi

echo "=== summary"
printf '%s\n' "${summary[@]}"
exit $failed
