#!/usr/bin/env bash
# Fuzzes the agency API from its own OpenAPI document with schemathesis: every operation gets
# generated valid and invalid bodies, parameters and headers; any 5xx, an undocumented status
# code or content type, or a response that does not match its schema fails the run.
#   .ci/fuzz-api.sh BASE_URL ANGEL_BIN [schemathesis options]
# The server at BASE_URL must use the same ANGEL_* settings (data directory, database) as the
# binary, and a rate limit that does not throttle the run (ANGEL_API_BURST). A synthetic
# population is added when the database has none, so that lookups and writes find real rows.
# ANGEL_FUZZ_EXAMPLES sets the examples per operation (default 200).
set -euo pipefail
base=$1 bin=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
st=${ANGEL_TOOLS:-$HOME/.cache/angel-tools}/bin/schemathesis
[ -x "$st" ] || { echo "fuzz: schemathesis is not installed (.ci/tools.sh installs it)"; exit 1; }
"$bin" seed --synthetic 300 --if-empty >/dev/null
# A client of IAAM for this run; its credential stays in this process.
credential=$("$bin" api client --agency IAAM --name schemathesis --days 1 2>/dev/null)
folio=$(curl -fsS -H "Authorization: Bearer $credential" "$base/api/v1/enrollments?limit=1" |
  python3 -c 'import json, sys; items = json.load(sys.stdin)["items"]; print(items[0]["folio"] if items else "NONE")')
echo "fuzz: writes go to request $folio"
cd "$root"
ANGEL_FUZZ_FOLIO=$folio "$st" --config-file "$root/.ci/schemathesis.toml" run "$base/api/v1/openapi.json" \
  --header "Authorization: Bearer $credential" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${ANGEL_FUZZ_EXAMPLES:-200}" \
  --workers 1 \
  --seed 42 \
  "$@"
