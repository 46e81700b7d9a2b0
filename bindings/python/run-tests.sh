#!/usr/bin/env bash
# Tests of the Python bindings: a venv (build/pybind-venv), `pip install` of
# this package plus a pinned pytest, then pytest against the debug otc-server
# and libopentok (no cargo build here: build them first, e.g. `cargo build`).
#
#   LIBOPENTOK      path of libopentok.so   (default ../../target/debug/libopentok.so)
#   OTC_SERVER_BIN  path of otc-server      (default ../../target/debug/otc-server)
#   OTC_CHAT_BIN    the C chat example      (default ../../c-examples/bin/chat; its tests skip without it)
#
# Exits non-zero when a test fails or when no test ran.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${OTC_PYBIND_VENV:-$ROOT/build/pybind-venv}
die() { echo "pybind-tests: $*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is not installed"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$VENV"; mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV" || die "python3 -m venv failed (install python3-venv)"
fi
# setuptools leaves build/ and *.egg-info in the source tree; a stale one
# must not stand in for the sources.
rm -rf "$HERE/build" "$HERE"/src/*.egg-info
timeout 900 "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input --force-reinstall --no-deps "$HERE" ||
    die "pip install of the binding failed"
timeout 900 "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
    pytest==9.2.0 iniconfig==2.3.1 packaging==26.3 pluggy==1.7.0 Pygments==2.21.0 ||
    die "pip install failed"

export OTC_LIBOPENTOK=${LIBOPENTOK:-$ROOT/target/debug/libopentok.so}
export OTC_SERVER_BIN=${OTC_SERVER_BIN:-$ROOT/target/debug/otc-server}
export OTC_CHAT_BIN=${OTC_CHAT_BIN:-$ROOT/c-examples/bin/chat}
[ -f "$OTC_LIBOPENTOK" ] || die "no libopentok at $OTC_LIBOPENTOK (set LIBOPENTOK)"
[ -x "$OTC_SERVER_BIN" ] || die "no otc-server at $OTC_SERVER_BIN (set OTC_SERVER_BIN)"
# make test asks for the C client's tests to run, not skip.
if [ "${OTC_CHAT_REQUIRED:-0}" = 1 ] && [ ! -x "$OTC_CHAT_BIN" ]; then
    die "no chat example at $OTC_CHAT_BIN (make examples)"
fi
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost PYTHONDONTWRITEBYTECODE=1

set +e
# From the tests directory, so the installed package (not ./src) is imported.
(cd "$HERE/tests" && timeout 600 "$VENV/bin/python" -m pytest -p no:cacheprovider -q . "$@")
rc=$?
set -e
case $rc in
0) ;;
5) die "pytest collected no test" ;;
124) die "the suite did not finish within 10 minutes" ;;
*) die "pytest failed (exit $rc)" ;;
esac
