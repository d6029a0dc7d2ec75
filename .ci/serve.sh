#!/usr/bin/env bash
# `make run` after the build: database, migrations, catalog, then serve.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=target/server-release/angel
export ANGEL_SITE_ROOT=${ANGEL_SITE_ROOT:-$root/target/site}
export ANGEL_DATA_DIR=${ANGEL_DATA_DIR:-$root/data}
"$bin" migrate
"$bin" seed --demo
exec "$bin" serve
