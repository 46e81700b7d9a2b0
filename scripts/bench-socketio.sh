#!/usr/bin/env bash
# make bench's Socket.IO 4 peer (docs/performance.md, "Against Socket.IO 4"):
# starts the release otc-server and bench/socketio/sio-server.mjs on free
# loopback ports, each a child process stopped by its PID at the end, and
# runs bench/socketio/loadgen.mjs against both.
#
#   scripts/bench-socketio.sh [--quick | --smoke] [more loadgen.mjs flags...]
#
# Needs node and npm (scripts/ensure-tools.sh installs them) and the otc-server
# binary in $OTC_SERVER_BIN (default: $CARGO_TARGET_DIR or ./target, release).
# Installs bench/socketio's pinned packages (npm ci) when node_modules is
# missing. Writes $OUT (default <target>/bench/socketio.json); with --smoke
# nothing is written and only counts are checked.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$ROOT/scripts/lib.sh"

TARGET=$(cd "$ROOT" && realpath -m "${CARGO_TARGET_DIR:-target}")
OTC_SERVER_BIN=${OTC_SERVER_BIN:-$TARGET/release/otc-server}
OUT=${OUT:-$TARGET/bench/socketio.json}
DIR=$ROOT/bench/socketio

command -v node >/dev/null && command -v npm >/dev/null ||
    die "node and npm are needed (scripts/ensure-tools.sh installs them)"
[ -x "$OTC_SERVER_BIN" ] ||
    die "no otc-server at $OTC_SERVER_BIN: build it with cargo build --release -p otc-server"

if [ ! -d "$DIR/node_modules/socket.io" ] || [ ! -d "$DIR/node_modules/ws" ]; then
    echo "bench-socketio: npm ci in bench/socketio (pinned by its package-lock.json)"
    (cd "$DIR" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) ||
        die "npm ci in bench/socketio failed"
fi

# One descriptor per connection in the load generator (up to 5,000 idle
# connections, plus the others): take the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

LOGS=$(mktemp -d)
SIO_PID=""
cleanup() {
    local rc=$?
    stop_server
    if [ -n "$SIO_PID" ]; then
        kill -TERM "$SIO_PID" 2>/dev/null || true
        wait_until 10 not_running "$SIO_PID" || kill -KILL "$SIO_PID" 2>/dev/null || true
        wait "$SIO_PID" 2>/dev/null || true
    fi
    if [ $rc -ne 0 ]; then
        for f in "$LOGS"/*.log; do
            [ -s "$f" ] || continue
            echo "--- $(basename "$f") (last 20 lines)" >&2
            tail -n 20 "$f" >&2
        done
    fi
    rm -rf "$LOGS"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The same flags as otc-bench (bench/src/main.rs, start_ours_with): the
# per-connection rate limit lifted, and the queue and replay bounds raised so
# that 2,048 signals of 8 KB in flight to one receiver stay within one
# sender's share. They are policies, not costs. The send queue is four
# times otc-bench's: the generator asks for no acknowledgement runs, so the
# sender is answered with one signal_ack per message (~145k/s at 100 B), and
# a pause of ~0.1 s in its one Node thread left 16,384 of them queued and
# the sender evicted as a slow consumer (seen once in a full run). The load
# generator starts fresh servers of its own for the memory figure, with the
# same flags.
OTC_FLAGS=(--log-level warn
    --signal-rate-per-sec 1000000000 --signal-burst 1000000000
    --replay-buffer-frames 65536 --send-queue-frames 65536
    --send-queue-bytes 268435456 --replay-buffer-bytes 536870912)
start_server "$LOGS/otc-server.log" "${OTC_FLAGS[@]}" || die "otc-server did not start"

sio_port() {
    announced "$LOGS/sio-server.log" 's/^listening on \([0-9][0-9]*\)$/\1/p' "$SIO_PID"
}
node "$DIR/sio-server.mjs" >"$LOGS/sio-server.log" 2>&1 &
SIO_PID=$!
wait_until 20 sio_port >/dev/null || die "the Socket.IO server did not start"
SIO_PORT=$(sio_port)

echo "bench-socketio: otc-server pid $OTC_SERVER_PID port $OTC_PORT, socket.io pid $SIO_PID port $SIO_PORT, open-file limit $(ulimit -n)"
# Bounded even if something hangs: every wait in the generator has its own
# deadline; this is the last resort.
timeout 600 node "$DIR/loadgen.mjs" \
    --otc-port "$OTC_PORT" --otc-pid "$OTC_SERVER_PID" --otc-bin "$OTC_SERVER_BIN" \
    --otc-args "${OTC_FLAGS[*]}" \
    --sio-port "$SIO_PORT" --sio-pid "$SIO_PID" --out "$OUT" "$@" ||
    die "the load generator failed (exit $?)"
kill -0 "$OTC_SERVER_PID" 2>/dev/null || die "otc-server exited during the run"
kill -0 "$SIO_PID" 2>/dev/null || die "the Socket.IO server exited during the run"
