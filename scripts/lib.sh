# Shell helpers shared by scripts/demo.sh and scripts/c-tests.sh (sourced,
# not run). Everything here is bounded in time: every wait has a deadline,
# and the server we start is stopped by stop_server (call it from a trap).
#
# Needs bash and the otc-server binary in $OTC_SERVER_BIN.

OTC_SERVER_PID=""
OTC_PORT=""
# The development project otc-server runs when given no configuration. The
# variables that would make it (or its create-session/token helpers) use
# another project are cleared: these scripts always use the dev project.
DEV_API_KEY=100000
unset OTC_API_KEY OTC_API_SECRET OTC_CONFIG OTC_LISTEN

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

# Sleeps in steps of 0.1 s until "$@" succeeds or $1 seconds pass. A
# command that fails with status 2 means "will never succeed": stop at once.
# Usage: wait_until SECONDS command [args...]
wait_until() {
    local tries=$(($1 * 10)) rc
    shift
    while ((tries-- > 0)); do
        "$@"
        rc=$?
        [ $rc -eq 0 ] && return 0
        [ $rc -eq 2 ] && return 2
        sleep 0.1
    done
    return 1
}

file_has_line() {
    [ -s "$1" ]
}

# Starts otc-server on a free loopback port (the kernel picks it: --listen
# 127.0.0.1:0), with the development project, and reads the address from
# the "listening on URL" line it prints. Sets OTC_SERVER_PID, OTC_PORT and
# exports OTC_SERVER_URL.
# Usage: start_server LOGFILE [more otc-server serve flags...]
start_server() {
    local log=$1 url
    shift
    [ -x "$OTC_SERVER_BIN" ] || die "no otc-server binary at $OTC_SERVER_BIN"
    : >"$log"
    "$OTC_SERVER_BIN" serve --listen 127.0.0.1:0 "$@" >>"$log" 2>&1 &
    OTC_SERVER_PID=$!
    if ! wait_until 20 server_announced "$log" >/dev/null; then
        echo "otc-server did not start; its output:" >&2
        sed 's/^/    /' "$log" >&2
        stop_server
        return 1
    fi
    url=$(server_announced "$log")
    OTC_PORT=${url##*:}
    export OTC_SERVER_URL=$url
}

# Prints what a child process announced in its log: the first match of
# the sed expression SED (which prints the part it wants); fails while there
# is none, and with status 2 once process PID has exited.
# Usage: announced LOG SED PID
announced() {
    local found
    found=$(sed -n "$2" "$1" | head -n 1)
    if [ -n "$found" ]; then
        echo "$found"
        return 0
    fi
    kill -0 "$3" 2>/dev/null || return 2
    return 1
}

# Prints the base URL from the server's "listening on URL" line (see
# announced).
server_announced() {
    announced "$1" 's|.*listening on \(http://127\.0\.0\.1:[0-9][0-9]*\).*|\1|p' "$OTC_SERVER_PID"
}

# Stops the server started by start_server: SIGTERM (graceful shutdown),
# then SIGKILL if it has not exited within 10 s.
stop_server() {
    local pid=$OTC_SERVER_PID
    [ -n "$pid" ] || return 0
    OTC_SERVER_PID=""
    kill -TERM "$pid" 2>/dev/null || return 0
    if ! wait_until 10 not_running "$pid"; then
        echo "otc-server (pid $pid) ignored SIGTERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true
}

not_running() {
    ! kill -0 "$1" 2>/dev/null
}

# Prints the last non-empty line of a command's standard output.
last_line() {
    "$@" | awk 'NF {l = $0} END {print l}'
}

# Prints a new session id of the development project.
create_session() {
    last_line timeout 30 "$OTC_SERVER_BIN" create-session
}

# Prints a token for session $1 with connection data $2 (may be empty).
mint_token() {
    if [ -n "${2:-}" ]; then
        last_line timeout 30 "$OTC_SERVER_BIN" token --session-id "$1" --data "$2"
    else
        last_line timeout 30 "$OTC_SERVER_BIN" token --session-id "$1"
    fi
}

# Kills the processes whose ids are given, and their children (by parent
# id only: never by name).
kill_tree() {
    local pid child
    for pid in "$@"; do
        [ -n "$pid" ] || continue
        for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
            kill_tree "$child"
        done
        kill -TERM "$pid" 2>/dev/null || true
    done
}

# POSTs a JSON body to the server's REST API, authenticated with a project
# JWT from `otc-server rest-token`, and prints the HTTP status code. Plain
# bash (/dev/tcp), so no HTTP client needs to be installed. The body must be
# ASCII (its length is counted in characters).
# Usage: rest_post PATH JSON
rest_post() {
    local path=$1 body=$2 jwt status
    jwt=$(last_line timeout 30 "$OTC_SERVER_BIN" rest-token) || return 1
    (
        exec 3<>"/dev/tcp/127.0.0.1/$OTC_PORT" || exit 1
        printf 'POST %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nX-OPENTOK-AUTH: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
            "$path" "$OTC_PORT" "$jwt" "${#body}" "$body" >&3
        IFS= read -r -t 10 status <&3 || exit 1
        status=${status#HTTP/1.1 }
        echo "${status%% *}"
    )
}

# Counting checks of a suite: `pass LABEL` / `fail LABEL`, then
# `finish_suite NAME` prints the tally and exits 1 if anything failed.
PASSED=0
FAILED=0
FAILURES=()
pass() {
    PASSED=$((PASSED + 1))
    echo "PASS  $1"
}
fail() {
    FAILED=$((FAILED + 1))
    FAILURES+=("$1")
    echo "FAIL  $1" >&2
}
finish_suite() {
    echo "$1: $PASSED passed, $FAILED failed"
    if [ "$FAILED" -ne 0 ]; then
        printf '  failed: %s\n' "${FAILURES[@]}" >&2
        exit 1
    fi
}

# --- cluster mode (redis-server and otc-server nodes) -----------------------

# Prints a loopback port nothing listens on (bounded number of tries).
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# Prints the redis-server (or valkey-server) binary; fails when neither is
# installed (scripts/ensure-tools.sh installs redis-server).
redis_binary() {
    command -v redis-server || command -v valkey-server || {
        [ -x /usr/bin/redis-server ] && echo /usr/bin/redis-server
    }
}

# Does redis on 127.0.0.1:$1 answer PING?
redis_answers() {
    [ "$( (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && head -c 5 <&3) 2>/dev/null)" = "+PONG" ]
}

# Starts redis-server on a free loopback port, its files in DIR (append-only
# file on). Sets REDIS_PID, REDIS_PORT and REDIS_URL.
# Usage: start_redis DIR
start_redis() {
    local bin
    bin=$(redis_binary) || die "redis-server is not installed (scripts/ensure-tools.sh installs it)"
    mkdir -p "$1"
    REDIS_PORT=$(free_port) || die "no free loopback port for Redis"
    "$bin" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly yes \
        --appendfsync always --dir "$1" >>"$1/redis.log" 2>&1 &
    REDIS_PID=$!
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
    wait_until 10 redis_answers "$REDIS_PORT" || die "redis-server did not start (log: $1/redis.log)"
}

# Starts an otc-server cluster node on a free port with the development
# project. Sets NODE_PID and NODE_URL (its base URL).
# Usage: start_node NAME LOGFILE REDIS_URL [more otc-server options...]
start_node() {
    local name=$1 log=$2 redis=$3 url=""
    shift 3
    "$OTC_SERVER_BIN" serve --listen 127.0.0.1:0 --redis "$redis" --node-id "$name" "$@" >"$log" 2>&1 &
    NODE_PID=$!
    for _ in $(seq 1 200); do
        url=$(sed -n 's|.*listening on \(http://127\.0\.0\.1:[0-9][0-9]*\).*|\1|p' "$log" | head -n 1)
        [ -n "$url" ] && break
        kill -0 "$NODE_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$url" ] || { sed 's/^/    /' "$log" >&2; return 1; }
    NODE_URL=$url
    # Ready once it reaches Redis.
    wait_until 10 node_ready "${url##*:}"
}

# Is the node on 127.0.0.1:$1 ready (GET /readyz answers 200)?
node_ready() {
    local status
    status=$(
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
        IFS= read -r -t 5 line <&3 || exit 1
        line=${line#HTTP/1.1 }
        echo "${line%% *}"
    ) 2>/dev/null
    [ "$status" = 200 ]
}
