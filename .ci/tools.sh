#!/usr/bin/env bash
# Installs what building, running and testing Ángel needs, and only what is missing.
#
# Everything that is not a Debian package goes into one tools directory outside the work tree
# ($ANGEL_TOOLS, default ~/.cache/angel-tools) so later runs and later clones reuse it.
# Prints the PATH to use on stdout as its last line (`eval "$(.ci/tools.sh --env)"`).
#
# The recipe (why Debian's rustc-web, why npm binaryen and not Debian's) is in README.md
# under "Building the WebAssembly on a machine without the rustup target".
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=${ANGEL_TOOLS:-$HOME/.cache/angel-tools}
CARGO_LEPTOS_VERSION=0.3.11
BINARYEN_VERSION=132
PLAYWRIGHT_VERSION=1.65.0
AXE_VERSION=4.14.1
SCHEMATHESIS_VERSION=4.32.5
# The wasm-bindgen CLI must equal the crate exactly: read the pin from the workspace.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen *= *{ *version *= *"=\([0-9.]*\)".*/\1/p; s/^wasm-bindgen *= *"=\([0-9.]*\)".*/\1/p' "$root/Cargo.toml" | head -n1)
[ -n "$WASM_BINDGEN_VERSION" ] || { echo "tools: no exact wasm-bindgen pin in Cargo.toml" >&2; exit 1; }

want_env=0
[ "${1:-}" = "--env" ] && want_env=1
log() { echo "tools: $*" >&2; }

mkdir -p "$TOOLS/bin"

# --- Debian packages --------------------------------------------------------------------------
apt_wanted=(chromium chromium-driver postgresql curl wrk brotli python3-venv)
command -v node >/dev/null 2>&1 || apt_wanted+=(nodejs npm)
wasm_from_rustup=0
if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  wasm_from_rustup=1
else
  apt_wanted+=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22)
fi
missing=()
for p in "${apt_wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >"$TOOLS/apt.log" 2>&1 || { cat "$TOOLS/apt.log" >&2; exit 1; }
fi

if [ $wasm_from_rustup = 1 ]; then
  host_cargo=$(command -v cargo)
  toolchain_path="$HOME/.cargo/bin"
  echo rustup >"$TOOLS/wasm-toolchain"
else
  host_cargo=/usr/bin/cargo
  # Debian's cargo would otherwise pick rustup's older rustc from PATH.
  export RUSTC=/usr/bin/rustc
  toolchain_path=/usr/bin
  echo debian >"$TOOLS/wasm-toolchain"
fi

# --- cargo-installed tools (built once, reused) ------------------------------------------------
cargo_tool() { # name version binary [extra args]
  local name=$1 version=$2 bin=$3; shift 3
  if [ -x "$TOOLS/bin/$bin" ] && "$TOOLS/bin/$bin" --version 2>/dev/null | grep -q "$version"; then
    return 0
  fi
  log "building $name $version (once; reused from $TOOLS)"
  CARGO_TARGET_DIR="$TOOLS/build-$name" "$host_cargo" install -q "$name" --version "$version" \
    --root "$TOOLS" --force "$@" >&2
  rm -rf "$TOOLS/build-$name"
}
# cargo-leptos needs cargo >= 1.96 for its lockfile; no_downloads: every helper comes from PATH.
cargo_tool cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-leptos --locked --features no_downloads
# Not --locked: a dependency locked by wasm-bindgen-cli is missing from the registry.
cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen

# --- npm tools: wasm-opt from binaryen 132 (Debian's 108 breaks hydration), playwright, axe-core
#     (the accessibility checks of the browser tests) -------------------------------------------
npm_dir="$TOOLS/npm"
if ! [ -x "$npm_dir/node_modules/.bin/wasm-opt" ] \
   || ! grep -q "\"version\": \"$BINARYEN_VERSION" "$npm_dir/node_modules/binaryen/package.json" 2>/dev/null \
   || ! grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$npm_dir/node_modules/playwright-core/package.json" 2>/dev/null \
   || ! grep -q "\"version\": \"$AXE_VERSION\"" "$npm_dir/node_modules/axe-core/package.json" 2>/dev/null; then
  log "installing binaryen@$BINARYEN_VERSION, playwright-core@$PLAYWRIGHT_VERSION and axe-core@$AXE_VERSION from npm"
  mkdir -p "$npm_dir"
  [ -f "$npm_dir/package.json" ] || echo '{"name":"angel-tools","private":true}' >"$npm_dir/package.json"
  (cd "$npm_dir" && npm install --no-audit --no-fund --silent \
     "binaryen@$BINARYEN_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" "@playwright/test@$PLAYWRIGHT_VERSION" \
     "axe-core@$AXE_VERSION" >&2)
fi

# --- schemathesis (fuzzes the agency API from its OpenAPI document), in a venv of its own ---------
st_dir="$TOOLS/schemathesis"
if ! "$st_dir/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  log "installing schemathesis $SCHEMATHESIS_VERSION from PyPI"
  rm -rf "$st_dir"
  python3 -m venv "$st_dir" >&2
  "$st_dir/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi
ln -sf "$st_dir/bin/schemathesis" "$TOOLS/bin/schemathesis"

# PATH order matters: npm's wasm-opt first, then the wasm-capable toolchain, then our tools.
path="$npm_dir/node_modules/.bin:$toolchain_path:$TOOLS/bin:$PATH"
if [ $want_env = 1 ]; then
  echo "export PATH='$path' ANGEL_TOOLS='$TOOLS' ANGEL_WASM_TOOLCHAIN='$(cat "$TOOLS/wasm-toolchain")' NODE_PATH='$npm_dir/node_modules'"
fi
