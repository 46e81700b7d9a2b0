#!/usr/bin/env bash
# The Node suite: the official OpenTok Node server SDK (the `opentok` package
# from npm) and the current Vonage one (`@vonage/video`, with a Vonage
# application), unmodified, pinned exactly in package.json and
# package-lock.json, against otc-server, with the C chat example as the client. Does everything
# itself:
#
#   1. checks for node (20 or newer) and npm; when they are missing and we
#      are root, apt-get installs nodejs and npm;
#   2. `npm ci` into tests/node/node_modules, only when package.json or
#      package-lock.json changed since the last install (a stamp file there);
#   3. builds otc-server, libopentok and c-examples/bin/chat (`make examples`,
#      PROFILE as for make: release unless PROFILE=debug), unless
#      OTC_SERVER_BIN and OTC_CHAT_BIN already name them;
#   4. runs `node --test` on tests/node/*.test.mjs (Node's own runner). The
#      tests start the server on a free loopback port and stop it (SIGTERM)
#      at the end.
#
# Exits non-zero when anything fails, including when no test ran.
# Usage: bash tests/node/run.sh [node --test arguments...]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

PROFILE=${PROFILE:-release}
case $PROFILE in
debug | dev) PROFILE_DIR=debug ;;
*) PROFILE_DIR=$PROFILE ;;
esac
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
MODULES=$HERE/node_modules
NODE_MAJOR_MIN=20

say() { echo "node-tests: $*"; }
die() {
    echo "node-tests: $*" >&2
    exit 1
}

# --- 1. node and npm -----------------------------------------------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "node or npm is missing; installing nodejs and npm with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        timeout 600 apt-get update -q >/dev/null || die "apt-get update failed"
        timeout 900 apt-get install -y -q nodejs npm >/dev/null ||
            die "apt-get could not install nodejs and npm"
    else
        die "node and npm are needed (e.g. apt-get install nodejs npm)"
    fi
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$major" -ge "$NODE_MAJOR_MIN" ] ||
    die "node $(node --version 2>/dev/null) is too old; the suite needs node $NODE_MAJOR_MIN or newer"

# --- 2. the pinned packages ------------------------------------------------------
# shellcheck source=../../scripts/node-suite.sh
. "$ROOT/scripts/node-suite.sh"
npm_ci_once "$HERE"

# --- 3. the server and the C chat client ------------------------------------------
if [ -z "${OTC_SERVER_BIN:-}" ] || [ -z "${OTC_CHAT_BIN:-}" ]; then
    say "building otc-server, libopentok and the C examples (PROFILE=$PROFILE)"
    mkdir -p "$ROOT/build"
    log=$ROOT/build/node-tests-make.log
    if ! timeout 3000 make --no-print-directory examples PROFILE="$PROFILE" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "make examples failed (full output: $log)"
    fi
    export OTC_SERVER_BIN=${OTC_SERVER_BIN:-$TARGET_DIR/$PROFILE_DIR/otc-server}
    export OTC_CHAT_BIN=${OTC_CHAT_BIN:-$ROOT/c-examples/bin/chat}
fi
[ -x "$OTC_SERVER_BIN" ] || die "no otc-server at $OTC_SERVER_BIN"
[ -x "$OTC_CHAT_BIN" ] || die "no chat example at $OTC_CHAT_BIN"

# --- 4. the tests --------------------------------------------------------------------
shopt -s nullglob
files=("$HERE"/*.test.mjs)
shopt -u nullglob
[ ${#files[@]} -gt 0 ] || die "no test file (*.test.mjs) in $HERE"
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
# A TAP copy of the results, to count what ran (the spec report is for people).
mkdir -p "$ROOT/build"
tap=$ROOT/build/node-tests.tap
version_of() { node -p 'require(process.argv[1]).version' "$MODULES/$1/package.json"; }
say "running opentok $(version_of opentok) and @vonage/video $(version_of @vonage/video) against $OTC_SERVER_BIN"
run_node_tests "$HERE" "$tap" 600 "$@" "${files[@]}"
