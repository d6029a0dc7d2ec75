#!/usr/bin/env bash
# Builds the release site (target/site) and the server (target/server-release/angel).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cargo leptos build --release "${LEPTOS_LIB_ARGS[@]}"
