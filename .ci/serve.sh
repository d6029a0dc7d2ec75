#!/usr/bin/env bash
# `make run` after the build: database, migrations, catalog, then serve.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=target/server-release/angel
export ANGEL_SITE_ROOT=${ANGEL_SITE_ROOT:-$root/target/site}
export ANGEL_DATA_DIR=${ANGEL_DATA_DIR:-$root/data}
"$bin" migrate
# A new database gets its key file (0600) beside it; an existing one keeps its keys, and
# encrypted data without its key file is refused rather than given new keys.
"$bin" keygen --if-missing
"$bin" seed --demo
# A new database also gets a demo population of 10,000 synthetic people (labelled as such).
"$bin" seed --synthetic "${ANGEL_DEMO_PEOPLE:-10000}" --if-empty
exec "$bin" serve
