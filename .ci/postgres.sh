#!/usr/bin/env bash
# A private PostgreSQL cluster for tests, on loopback only, with its own socket directory.
#   .ci/postgres.sh start DIR PORT [durable]   → prints the admin URL
#     (durable: fsync on, for benchmarks; tests run with fsync off)
#   .ci/postgres.sh stop DIR
set -euo pipefail
action=$1 dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$bin/pg_ctl" ] || { echo "postgres: no server found under /usr/lib/postgresql (apt install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$action" in
  start)
    port=$3
    fsync=off
    [ "${4:-}" = durable ] && fsync=on
    mkdir -p "$dir/data" "$dir/sock"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
    as_pg "$bin/initdb" -A trust -U postgres -E UTF8 -D "$dir/data" >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync off by default: a throwaway cluster; durability is not what tests measure.
    as_pg "$bin/pg_ctl" -w -D "$dir/data" -l "$dir/server.log" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=$fsync -c max_connections=200" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
