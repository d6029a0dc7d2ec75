# Sourced by the other scripts: installs what is missing (.ci/tools.sh) and sets the
# environment every cargo / cargo-leptos call of this project uses.
# shellcheck shell=bash
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
eval "$("$root/.ci/tools.sh" --env)"
if [ "$ANGEL_WASM_TOOLCHAIN" = debian ]; then
  # Debian's rustc-web builds the wasm std itself (-Zbuild-std in Cargo.toml). Kept constant
  # for every build in this target directory: toggling it rebuilds ~130 crates.
  export RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc
  LEPTOS_LIB_ARGS=()
else
  # rustup has the wasm32 target: no build-std, override the Cargo.toml setting.
  LEPTOS_LIB_ARGS=(--lib-cargo-args=--locked)
fi
export CARGO_TERM_PROGRESS_WHEN=never
cd "$root"
