#!/usr/bin/env bash
# The cluster suite: three otc-server processes on one redis-server, C
# clients spread over them (tests/cluster/cluster_failover.c): nodes killed
# with SIGKILL, Redis stopped and started again.
#
# Usage: scripts/cluster-tests.sh PREFIX
#   PREFIX is a `make install PREFIX=...` tree holding bin/otc-server and the
#   library (the Makefile's test-cluster target makes a fresh one).
#
# Everything listens on 127.0.0.1 only. redis-server comes from
# scripts/ensure-tools.sh (Debian's redis-server); Valkey's valkey-server
# is used when that is what is installed. Redis runs with its append-only
# file, as docs/cluster.md asks for exactly-once across a Redis restart.
# Every wait is bounded; the EXIT trap stops every process started here by
# PID.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

[ $# -eq 1 ] || die "usage: $0 PREFIX"
PREFIX=$(cd "$1" && pwd) || die "no such prefix: $1"
OTC_SERVER_BIN=$PREFIX/bin/otc-server
WORK=$ROOT/build/cluster-tests
CC=${CC:-cc}
GRACE_MS=3000

command -v pkg-config >/dev/null 2>&1 || die "pkg-config is not installed"

rm -rf "$WORK"
mkdir -p "$WORK/redis"
NODE_PIDS=()
REDIS_PID=""
cleanup() {
    local p
    for p in "${NODE_PIDS[@]}" $REDIS_PID $(cat "$WORK/redis.pid" 2>/dev/null); do
        kill -KILL "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

REDIS_BIN=$(redis_binary) || die "redis-server is not installed (scripts/ensure-tools.sh installs it)"
REDIS_PORT=$(free_port) || die "no free loopback port for Redis"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

# The control command the C program runs: "stop" (SIGKILL) or "start" (the
# same port and directory: its append-only file brings the data back).
cat >"$WORK/redis-ctl" <<CTL
#!/usr/bin/env bash
set -u
. '$ROOT/scripts/lib.sh'
case "\$1" in
stop)
    kill -KILL "\$(cat '$WORK/redis.pid')" 2>/dev/null
    wait_until 5 not_running "\$(cat '$WORK/redis.pid')" ;;
start)
    '$REDIS_BIN' --port $REDIS_PORT --bind 127.0.0.1 --save '' --appendonly yes \\
        --appendfsync always --dir '$WORK/redis' >>'$WORK/redis.log' 2>&1 &
    echo \$! >'$WORK/redis.pid'
    wait_until 10 redis_answers $REDIS_PORT ;;
*) exit 2 ;;
esac
CTL
chmod +x "$WORK/redis-ctl"
"$WORK/redis-ctl" start || die "redis-server did not start; log: $WORK/redis.log"
echo "== redis-server on 127.0.0.1:$REDIS_PORT ($("$REDIS_BIN" --version | cut -c1-24))"

cat >"$WORK/node.toml" <<TOML
[limits]
reconnect_grace_ms = $GRACE_MS
TOML

for n in 1 2 3; do
    start_node "n$n" "$WORK/node$n.log" "$REDIS_URL" --config "$WORK/node.toml" ||
        die "node n$n did not start"
    NODE_PIDS+=("$NODE_PID")
    export "OTC_TEST_NODE_URL_$n=$NODE_URL" "OTC_TEST_NODE_PID_$n=$NODE_PID"
    echo "== node n$n at $NODE_URL (pid $NODE_PID)"
done

export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
# shellcheck disable=SC2046
if ! "$CC" -std=c99 -Wall -Wextra -Werror -pedantic -D_POSIX_C_SOURCE=200809L \
    -o "$WORK/cluster_failover" "$ROOT/tests/cluster/cluster_failover.c" \
    $(pkg-config --cflags --libs libopentok) -lpthread -Wl,-rpath,"$PREFIX/lib" \
    >"$WORK/build.log" 2>&1; then
    sed 's/^/    /' "$WORK/build.log" >&2
    die "cluster_failover.c did not build"
fi

SID=$(create_session) || die "no session"
export OTC_TEST_API_KEY=$DEV_API_KEY OTC_TEST_SESSION_ID=$SID OTC_TEST_GRACE_MS=$GRACE_MS
export OTC_TEST_REDIS_CTL=$WORK/redis-ctl
for i in 1 2 3 4 5; do
    export "OTC_TEST_TOKEN_$i=$(mint_token "$SID" "name=c$i")"
done

echo "== cluster_failover (3 nodes, SIGKILL, Redis restart)"
timeout 180 "$WORK/cluster_failover" | tee "$WORK/cluster_failover.out"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
    for n in 1 2 3; do
        echo "--- node n$n log (last 30 lines)" >&2
        tail -n 30 "$WORK/node$n.log" >&2
    done
    die "cluster_failover failed (status $rc)"
fi
echo "cluster suite: passed"
