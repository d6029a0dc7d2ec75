#!/usr/bin/env bash
# `make bench`: the performance goals of PERFORMANCE.md, each as a ratio against a baseline
# measured in the same run. P9 (password hashing), the eligibility evaluator (in memory, against
# a hand-written PAAM rule), then P1–P3 (registry), the tracking figures (agency queue, person
# timeline, escalation job), P5 (coverage) and P6 (legacy import) on a SQLite file and on a
# private PostgreSQL cluster (fsync on, as in production).
#   ANGEL_BENCH_PERSONS   synthetic people per engine (default 1200000: about 2M requests)
#   ANGEL_BENCH_ENGINES   "postgres" or "sqlite" to measure one engine (default both)
#   ANGEL_BENCH_SKIP_REGISTRY, ANGEL_BENCH_SKIP_P9, ANGEL_BENCH_SKIP_PORTAL   skip those parts
#   ANGEL_BENCH_SKIP_TRACKING   load the request histories, skip the tracking measurements
#   ANGEL_BENCH_SKIP_GAP        skip P5's eligibility gap job (the longest part at 1.2M people)
#   ANGEL_BENCH_IMPORT_ROWS     rows of P6's synthetic agency file (default 100000)
#   ANGEL_BENCH_IMPORT_CHUNK    rows per committed chunk of P6's import (default: the import's, 2000)
#   ANGEL_BENCH_SKIP_IMPORT     skip P6 (the legacy import)
# The portal's goals (P8 screener under load, P10 bundle sizes) run first: .ci/bench-portal.sh.
set -euo pipefail
source "$(dirname "$0")/env.sh"
work=$(mktemp -d /tmp/angel-bench.XXXXXX)
chmod 755 "$work"  # the postgres user enters it
trap '.ci/postgres.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
run() { cargo run --quiet --locked --profile server-release -p angel-server --example "$@"; }
[ -n "${ANGEL_BENCH_SKIP_PORTAL:-}" ] || .ci/bench-portal.sh
[ -n "${ANGEL_BENCH_SKIP_P9:-}" ] || run login_bench
run eligibility_bench
port=$(.ci/free-port.sh)
url=$(.ci/postgres.sh start "$work/pg" "$port" durable)
ANGEL_BENCH_POSTGRES_URL=$url run database_bench
# P6: one process per mode, so that each peak memory is its own.
if [ -z "${ANGEL_BENCH_SKIP_IMPORT:-}" ]; then
  ANGEL_BENCH_POSTGRES_URL=$url run import_bench plain
  ANGEL_BENCH_POSTGRES_URL=$url run import_bench fuzzy
fi
