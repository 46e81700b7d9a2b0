#!/usr/bin/env bash
# The Python suite: the official OpenTok server SDK (the `opentok` package
# from PyPI) and the current Vonage one (`vonage` 4.x, with a Vonage
# application, over TLS), unmodified, pinned in requirements.txt, against
# otc-server, with
# the C chat example as the client. Does everything itself:
#
#   1. a virtual environment in build/python-venv (python3 -m venv; when the
#      venv module is missing and we are root, apt-get installs python3-venv);
#   2. pip installs requirements.txt into it (again only when that file
#      changed);
#   3. builds otc-server, libopentok and c-examples/bin/chat (`make examples`,
#      PROFILE as for make: release unless PROFILE=debug), unless
#      OTC_SERVER_BIN and OTC_CHAT_BIN already name them;
#   4. runs pytest on tests/python. The tests start the server on a free
#      loopback port and stop it (SIGTERM) at the end.
#
# Exits non-zero when anything fails, including when no test ran.
# Usage: bash tests/python/run.sh [pytest arguments...]
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
VENV=${OTC_PY_VENV:-$ROOT/build/python-venv}
REQS=$HERE/requirements.txt

say() { echo "python-tests: $*"; }
die() {
    echo "python-tests: $*" >&2
    exit 1
}

# --- 1. the virtual environment ----------------------------------------------
command -v python3 >/dev/null 2>&1 || die "python3 is not installed"

make_venv() {
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV" >/dev/null 2>&1
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    if ! make_venv; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            say "python3 -m venv failed; installing python3-venv with apt-get"
            export DEBIAN_FRONTEND=noninteractive
            timeout 600 apt-get update -q >/dev/null || die "apt-get update failed"
            timeout 900 apt-get install -y -q --no-install-recommends python3-venv >/dev/null ||
                die "apt-get could not install python3-venv"
            make_venv || die "python3 -m venv still fails after installing python3-venv"
        else
            die "python3 -m venv failed; install the venv module (e.g. apt-get install python3-venv)"
        fi
    fi
fi

# --- 2. the pinned packages --------------------------------------------------
STAMP=$VENV/.requirements.sha256
want=$(sha256sum "$REQS" | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
    say "installing $(grep -c '==' "$REQS") pinned packages into $VENV"
    timeout 900 "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        --no-input -r "$REQS" || die "pip install failed"
    echo "$want" >"$STAMP"
fi

# --- 3. the server and the C chat client --------------------------------------
if [ -z "${OTC_SERVER_BIN:-}" ] || [ -z "${OTC_CHAT_BIN:-}" ]; then
    say "building otc-server, libopentok and the C examples (PROFILE=$PROFILE)"
    mkdir -p "$ROOT/build"
    log=$ROOT/build/python-tests-make.log
    if ! timeout 3000 make --no-print-directory examples PROFILE="$PROFILE" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "make examples failed (full output: $log)"
    fi
    export OTC_SERVER_BIN=${OTC_SERVER_BIN:-$TARGET_DIR/$PROFILE_DIR/otc-server}
    export OTC_CHAT_BIN=${OTC_CHAT_BIN:-$ROOT/c-examples/bin/chat}
fi
[ -x "$OTC_SERVER_BIN" ] || die "no otc-server at $OTC_SERVER_BIN"
[ -x "$OTC_CHAT_BIN" ] || die "no chat example at $OTC_CHAT_BIN"

# --- 4. the tests --------------------------------------------------------------
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export PYTHONDONTWRITEBYTECODE=1
say "running the official OpenTok SDK and the Vonage SDK against $OTC_SERVER_BIN"
set +e
# The README's install snippet runs `make install` and `make deb` (two
# optimized builds) inside the suite: on a fresh clone, on a busy machine,
# that alone can take ten minutes. --durations names the slow tests.
timeout 1500 "$VENV/bin/python" -m pytest -p no:cacheprovider -q --durations=5 "$HERE" "$@"
rc=$?
set -e
case $rc in
0) ;;
5) die "pytest collected no test" ;;
124) die "the suite did not finish within 25 minutes" ;;
*) die "pytest failed (exit $rc)" ;;
esac
