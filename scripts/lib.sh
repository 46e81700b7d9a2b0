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
# Usage: start_server LOGFILE
start_server() {
    local log=$1 url
    [ -x "$OTC_SERVER_BIN" ] || die "no otc-server binary at $OTC_SERVER_BIN"
    : >"$log"
    "$OTC_SERVER_BIN" serve --listen 127.0.0.1:0 >>"$log" 2>&1 &
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

# Prints the base URL from the server's "listening on URL" line; fails
# while there is none, and with status 2 when the server has exited.
server_announced() {
    local url
    url=$(sed -n 's|.*listening on \(http://127\.0\.0\.1:[0-9][0-9]*\).*|\1|p' "$1" | head -n 1)
    if [ -n "$url" ]; then
        echo "$url"
        return 0
    fi
    kill -0 "$OTC_SERVER_PID" 2>/dev/null || return 2
    return 1
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
