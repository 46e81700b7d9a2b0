# Shell helpers shared by scripts/demo.sh and scripts/c-tests.sh (sourced,
# not run). Everything here is bounded in time: every wait has a deadline,
# and the server we start is stopped by stop_server (call it from a trap).
#
# Needs bash (for /dev/tcp) and the otc-server binary in $OTC_SERVER_BIN.

OTC_SERVER_PID=""
OTC_PORT=""
# The development project every otc-server runs when given no configuration.
: "${OTC_API_KEY:=100000}"

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Sleeps in steps of 0.1 s until "$@" succeeds or $1 seconds pass.
# Usage: wait_until SECONDS command [args...]
wait_until() {
    local tries=$(($1 * 10))
    shift
    while ((tries-- > 0)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

file_has_line() {
    [ -s "$1" ]
}

# Starts otc-server on a free loopback port, with the development project.
# Sets OTC_SERVER_PID, OTC_PORT and exports OTC_SERVER_URL. A random port
# that nothing listens on is tried; if the server still cannot bind it (a
# race with another program), the next one is tried.
# Usage: start_server LOGFILE
start_server() {
    local log=$1 attempt port
    [ -x "$OTC_SERVER_BIN" ] || die "no otc-server binary at $OTC_SERVER_BIN"
    for attempt in 1 2 3 4 5 6 7 8; do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        port_open "$port" && continue
        "$OTC_SERVER_BIN" serve --listen "127.0.0.1:$port" >>"$log" 2>&1 &
        OTC_SERVER_PID=$!
        if wait_until 15 server_ready "$port"; then
            # Still ours? (A process that lost the bind race has exited.)
            sleep 0.2
            if kill -0 "$OTC_SERVER_PID" 2>/dev/null; then
                OTC_PORT=$port
                export OTC_SERVER_URL="http://127.0.0.1:$port"
                return 0
            fi
        fi
        stop_server
        echo "otc-server did not come up on port $port (attempt $attempt), see $log" >&2
    done
    return 1
}

server_ready() {
    kill -0 "$OTC_SERVER_PID" 2>/dev/null || return 2
    port_open "$1"
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
