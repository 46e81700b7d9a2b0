#!/usr/bin/env bash
# The JavaScript client's suite: npm ci (only when package.json or
# package-lock.json changed, with a stamp file in node_modules), the
# generated protocol files checked, npm run build (tsc -> dist/), the copy
# otc-server's console serves (server/console/otc/) checked, then
# node --test on test/*.test.mjs against the real otc-server.
#
# OTC_SERVER_BIN names the server binary (default: ../../target/debug/otc-server
# from here; build it first, e.g. `cargo build -p otc-server`).
# Exits non-zero when anything fails, including when no test ran.
# Usage: bash clients/js/run-tests.sh [node --test arguments...]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
say() { echo "js-client-tests: $*"; }
die() {
    echo "js-client-tests: $*" >&2
    exit 1
}

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || die "node (20 or newer) and npm are needed"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "node $(node --version) is too old; 20 or newer is needed"

export OTC_SERVER_BIN=${OTC_SERVER_BIN:-$HERE/../../target/debug/otc-server}
[ -x "$OTC_SERVER_BIN" ] || die "no otc-server at $OTC_SERVER_BIN (build it, or set OTC_SERVER_BIN)"

# shellcheck source=../../scripts/node-suite.sh
. "$HERE/../../scripts/node-suite.sh"
npm_ci_once "$HERE"

npm run --silent gen:check || die "src/limits.ts, src/codes.ts or src/policy.ts is stale: run npm run gen"
rm -rf dist
timeout 300 npm run --silent build || die "tsc failed"
# otc-server's console serves a committed copy of dist/*.js (server/console/otc/).
node scripts/console-copy.mjs --check || die "server/console/otc/ is stale"

shopt -s nullglob
files=(test/*.test.mjs)
shopt -u nullglob
[ ${#files[@]} -gt 0 ] || die "no test file (test/*.test.mjs)"
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
mkdir -p build
tap=build/js-client-tests.tap
run_node_tests "$HERE" "$tap" 600 --test-concurrency=1 "$@" "${files[@]}"
