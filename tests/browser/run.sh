#!/usr/bin/env bash
# The browser suite: headless Debian chromium, driven by puppeteer-core
# (pinned exactly in package.json and package-lock.json), against otc-server
# with its developer's console on, with the C chat example as the other
# participant. Does everything itself:
#
#   1. checks for node (20 or newer), npm and /usr/bin/chromium (apt-get
#      installs `chromium` when it is missing and we are root; so does
#      scripts/ensure-tools.sh, which `make test-tools` runs);
#   2. `npm ci` into tests/browser/node_modules, only when package.json or
#      package-lock.json changed since the last install (a stamp file there);
#   3. the server: OTC_SERVER_BIN (default target/debug/otc-server, under
#      CARGO_TARGET_DIR when set; build it first, e.g. `make test-build`);
#      the chat client: OTC_CHAT_BIN, else `make examples PROFILE=debug`
#      builds c-examples/bin/chat;
#   4. runs `node --test` on tests/browser/*.test.mjs. Each test file starts
#      otc-server --console on a free loopback port (it prints the port the
#      kernel gave it) and stops it by its PID with SIGTERM, and starts one
#      chromium with a fresh --user-data-dir (mkdtemp, removed after).
#
# Exits non-zero when anything fails, including when no test ran.
# Usage: bash tests/browser/run.sh [node --test arguments...]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
MODULES=$HERE/node_modules
CHROMIUM=${OTC_CHROMIUM:-/usr/bin/chromium}
NODE_MAJOR_MIN=20

say() { echo "browser-tests: $*"; }
die() {
    echo "browser-tests: $*" >&2
    exit 1
}

# --- 1. node, npm, chromium --------------------------------------------------------
need=()
{ command -v node && command -v npm; } >/dev/null 2>&1 || need+=(nodejs npm)
[ -x "$CHROMIUM" ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "missing ${need[*]}; installing with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        timeout 600 apt-get update -q >/dev/null || die "apt-get update failed"
        timeout 900 apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null ||
            die "apt-get could not install ${need[*]}"
    else
        die "${need[*]} needed (e.g. apt-get install ${need[*]})"
    fi
fi
[ -x "$CHROMIUM" ] || die "no chromium at $CHROMIUM"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$major" -ge "$NODE_MAJOR_MIN" ] ||
    die "node $(node --version 2>/dev/null) is too old; the suite needs node $NODE_MAJOR_MIN or newer"

# --- 2. the pinned packages ------------------------------------------------------------
# shellcheck source=../../scripts/node-suite.sh
. "$ROOT/scripts/node-suite.sh"
npm_ci_once "$HERE"

# --- 3. the server and the C chat client ------------------------------------------------
export OTC_SERVER_BIN=${OTC_SERVER_BIN:-$TARGET_DIR/debug/otc-server}
[ -x "$OTC_SERVER_BIN" ] || die "no otc-server at $OTC_SERVER_BIN (build it: make test-build, or set OTC_SERVER_BIN)"
if [ -z "${OTC_CHAT_BIN:-}" ]; then
    say "building libopentok and the C examples (PROFILE=debug)"
    mkdir -p "$ROOT/build"
    log=$ROOT/build/browser-tests-make.log
    if ! timeout 3000 make --no-print-directory examples PROFILE=debug >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "make examples failed (full output: $log)"
    fi
    export OTC_CHAT_BIN=$ROOT/c-examples/bin/chat
fi
[ -x "$OTC_CHAT_BIN" ] || die "no chat example at $OTC_CHAT_BIN"
export OTC_CHROMIUM=$CHROMIUM

# --- 4. the tests ---------------------------------------------------------------------------
shopt -s nullglob
files=("$HERE"/*.test.mjs)
shopt -u nullglob
[ ${#files[@]} -gt 0 ] || die "no test file (*.test.mjs) in $HERE"
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
mkdir -p "$ROOT/build"
tap=$ROOT/build/browser-tests.tap
say "$("$CHROMIUM" --version 2>/dev/null | head -n 1), puppeteer-core $(node -p 'require(process.argv[1]).version' "$MODULES/puppeteer-core/package.json"), $OTC_SERVER_BIN"
run_node_tests "$HERE" "$tap" 900 --test-concurrency=1 "$@" "${files[@]}"
