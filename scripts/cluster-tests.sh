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

REDIS_BIN=$(command -v redis-server || command -v valkey-server || true)
[ -n "$REDIS_BIN" ] || die "redis-server is not installed (scripts/ensure-tools.sh installs it)"
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

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
REDIS_PORT=""
for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if port_free "$p"; then REDIS_PORT=$p; break; fi
done
[ -n "$REDIS_PORT" ] || die "no free loopback port for Redis"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

# The control command the C program runs: "stop" (SIGKILL) or "start".
cat >"$WORK/redis-ctl" <<CTL
#!/usr/bin/env bash
set -u
case "\$1" in
stop)
    kill -KILL "\$(cat '$WORK/redis.pid')" 2>/dev/null
    for _ in \$(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT) 2>/dev/null || exit 0; sleep 0.05; done
    exit 1 ;;
start)
    '$REDIS_BIN' --port $REDIS_PORT --bind 127.0.0.1 --save '' --appendonly yes \\
        --appendfsync always --dir '$WORK/redis' >>'$WORK/redis.log' 2>&1 &
    echo \$! >'$WORK/redis.pid'
    for _ in \$(seq 1 100); do
        [ "\$( (exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT && printf 'PING\r\n' >&3 && head -c 5 <&3) 2>/dev/null)" = "+PONG" ] && exit 0
        sleep 0.05
    done
    exit 1 ;;
esac
exit 2
CTL
chmod +x "$WORK/redis-ctl"
"$WORK/redis-ctl" start || die "redis-server did not start; log: $WORK/redis.log"
echo "== redis-server on 127.0.0.1:$REDIS_PORT ($("$REDIS_BIN" --version | head -c 40))"

cat >"$WORK/node.toml" <<TOML
[limits]
reconnect_grace_ms = $GRACE_MS
TOML

# Starts node N; sets NODE_URL_N and NODE_PID_N.
start_node() {
    local n=$1 log=$WORK/node$1.log url pid
    "$OTC_SERVER_BIN" serve --listen 127.0.0.1:0 --redis "$REDIS_URL" --node-id "n$n" \
        --config "$WORK/node.toml" >"$log" 2>&1 &
    pid=$!
    NODE_PIDS+=("$pid")
    for _ in $(seq 1 200); do
        url=$(sed -n 's|.*listening on \(http://127\.0\.0\.1:[0-9][0-9]*\).*|\1|p' "$log" | head -n 1)
        [ -n "$url" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$url" ] || { sed 's/^/    /' "$log" >&2; die "node $n did not start"; }
    # Ready once it reaches Redis.
    for _ in $(seq 1 200); do
        [ "$(http_status "${url##*:}" /readyz)" = 200 ] && break
        sleep 0.05
    done
    export "OTC_TEST_NODE_URL_$n=$url" "OTC_TEST_NODE_PID_$n=$pid"
    echo "== node n$n at $url (pid $pid)"
}

# Prints the status code of GET PATH on 127.0.0.1:PORT.
http_status() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3
        IFS= read -r -t 5 status <&3 || exit 1
        status=${status#HTTP/1.1 }
        echo "${status%% *}"
    ) 2>/dev/null
}

for n in 1 2 3; do start_node "$n"; done

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
