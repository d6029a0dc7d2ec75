#!/usr/bin/env bash
# Builds the release site (target/site) and the server (target/server-release/angel), unless
# nothing they are built from changed since the last successful build.
set -euo pipefail
source "$(dirname "$0")/env.sh"
stamp=target/.angel-release-stamp
inputs=(Cargo.toml Cargo.lock app server entity migration style)
if [ -f "$stamp" ] && [ -x target/server-release/angel ] && [ -f target/site/pkg/angel.wasm ] \
   && [ -z "$(find "${inputs[@]}" -newer "$stamp" -print -quit)" ]; then
  echo "build: up to date"
  exit 0
fi
cargo leptos build --release "${LEPTOS_LIB_ARGS[@]}"
touch "$stamp"
