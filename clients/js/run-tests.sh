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

STAMP=node_modules/.otc-installed.sha256
want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
    say "npm ci"
    timeout 900 npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed"
    echo "$want" >"$STAMP"
fi

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
rm -f "$tap"
set +e
timeout 600 node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" \
    "$@" "${files[@]}"
rc=$?
set -e
count() { sed -n "s/^# $1 \([0-9][0-9]*\)$/\1/p" "$tap" 2>/dev/null | tail -n 1; }
tests=$(count tests)
pass=$(count pass)
fail=$(count fail)
case $rc in
0) ;;
124) die "the suite did not finish within 10 minutes" ;;
*) die "node --test failed (exit $rc; ${pass:-0} of ${tests:-0} tests passed)" ;;
esac
[ "${pass:-0}" -gt 0 ] || die "no test ran (${tests:-0} found)"
say "${pass} passed, ${fail:-0} failed"
