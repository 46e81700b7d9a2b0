#!/usr/bin/env bash
# make demo: two C chat clients, alice and bob, talk through a local
# otc-server.
#
#  1. start otc-server on a free loopback port (development project);
#  2. create a session and mint one token each (`otc-server create-session`,
#     `otc-server token`);
#  3. run c-examples/bin/chat twice, each fed a script on stdin: both
#     broadcast a line (which also comes back to the sender), each sends the
#     other a private line (`/to <id>`: each learns the other's connection id
#     from the file the other writes with --id-file; the receiver sees it as
#     `[sender -> receiver] private: ...`, the sender gets `* sent privately
#     to ...` once the server has routed it), the application server
#     broadcasts an announcement through the REST API (it arrives with no
#     sender: "[server]"), alice leaves and bob sees her connection dropped;
#  4. print both transcripts (connection ids replaced by names), stop the
#     server and exit 0 only if every expected line was seen, and the private
#     lines reached nobody else.
#
# The server runs with its developer's console (--console), and a third
# token is minted for a browser participant. With KEEP=1 (make demo KEEP=1)
# the server stays up after the script (until Ctrl-C, at most an hour) so
# the console page it prints can join the same session from a browser and
# talk with `c-examples/bin/chat` run by hand, as the lines printed say.
#
# With CLUSTER=1 (make demo CLUSTER=1) the same runs on a two-node cluster:
# a redis-server on a free loopback port, two otc-server nodes with --redis,
# alice on the first and bob on the second (and the REST call to the
# first): every line crosses nodes through Redis.
#
# Everything is bounded: each client runs under `timeout`, every wait has a
# deadline, and the EXIT trap stops whatever is still running.
#
# Environment: OTC_PREFIX (an install prefix with bin/otc-server; default
# build/stage-release), OTC_CHAT (the chat binary; default c-examples/bin/chat),
# OTC_DEMO_TIMEOUT (seconds per client, default 60), KEEP (1: keep the server
# up for a browser, see above).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

PREFIX=${OTC_PREFIX:-$ROOT/build/stage-release}
OTC_SERVER_BIN=${OTC_SERVER_BIN:-$PREFIX/bin/otc-server}
CHAT=${OTC_CHAT:-$ROOT/c-examples/bin/chat}
CLIENT_TIMEOUT=${OTC_DEMO_TIMEOUT:-60}
[ -x "$CHAT" ] || die "no chat program at $CHAT (run: make examples)"
[ -x "$OTC_SERVER_BIN" ] || die "no otc-server at $OTC_SERVER_BIN (run: make)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/otc-demo.XXXXXX")
CLIENT_PIDS=()
CLUSTER=${CLUSTER:-0}
EXTRA_PIDS=()
cleanup() {
    local rc=$?
    kill_tree "${CLIENT_PIDS[@]}"
    stop_server
    stop_cluster
    rm -rf "$WORK"
    exit "$rc"
}
# Stops the cluster's second node and Redis (the first is stop_server's).
stop_cluster() {
    local p
    for p in "${EXTRA_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || continue
        wait_until 10 not_running "$p" || kill -KILL "$p" 2>/dev/null
    done
    EXTRA_PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ALICE_URL="" BOB_URL=""
if [ "$CLUSTER" = 1 ]; then
    echo "== starting redis-server and two otc-server nodes (cluster mode)"
    start_redis "$WORK/redis"
    EXTRA_PIDS+=("$REDIS_PID")
    echo "   redis-server at $REDIS_URL (pid $REDIS_PID)"
    start_node node-1 "$WORK/server.log" "$REDIS_URL" --console || die "node-1 did not start (log: $WORK/server.log)"
    OTC_SERVER_PID=$NODE_PID ALICE_URL=$NODE_URL
    OTC_PORT=${NODE_URL##*:}
    echo "   node-1 at $NODE_URL (pid $NODE_PID): alice's, and the REST call's"
    start_node node-2 "$WORK/server2.log" "$REDIS_URL" || die "node-2 did not start (log: $WORK/server2.log)"
    EXTRA_PIDS=("$NODE_PID" "${EXTRA_PIDS[@]}")
    BOB_URL=$NODE_URL
    echo "   node-2 at $NODE_URL (pid $NODE_PID): bob's"
else
    echo "== starting otc-server"
    start_server "$WORK/server.log" --console || die "could not start otc-server (log: $(cat "$WORK/server.log"))"
    echo "   listening at $OTC_SERVER_URL (pid $OTC_SERVER_PID)"
    ALICE_URL=$OTC_SERVER_URL BOB_URL=$OTC_SERVER_URL
fi

SESSION_ID=$(create_session) || die "otc-server create-session failed"
[ -n "$SESSION_ID" ] || die "otc-server create-session printed nothing"
ALICE_TOKEN=$(mint_token "$SESSION_ID" "name=alice") || die "otc-server token failed"
BOB_TOKEN=$(mint_token "$SESSION_ID" "name=bob") || die "otc-server token failed"
BROWSER_TOKEN=$(mint_token "$SESSION_ID" "name=browser") || die "otc-server token failed"
echo "== session $SESSION_ID"
echo "   API key $DEV_API_KEY, one token each for alice and bob"

# Waits for the id file $1 and prints the id in it.
read_id() {
    wait_until 30 file_has_line "$1" || return 1
    head -n 1 "$1"
}

alice_input() {
    local bob
    echo "/wait-peers 1 30"
    echo "Hello everyone, this is alice"
    bob=$(read_id "$WORK/bob.id") || { echo "/quit"; return; }
    echo "/to $bob Psst bob, a private hello from alice"
    echo "/wait-signals 3 30"
    echo "/quit"
}

bob_input() {
    local alice
    alice=$(read_id "$WORK/alice.id") || { echo "/quit"; return; }
    echo "/wait-peers 1 30"
    echo "/wait-signals 1 30"
    echo "Hi alice, bob here"
    echo "/to $alice A private reply, just for alice"
    echo "/wait-signals 3 30"
    echo "/wait-peers 0 30"
    echo "/quit"
}

# Runs one client: its input script piped into chat; exit status in NAME.rc.
run_client() {
    local name=$1 token=$2 input=$3 url=$4
    set +e
    "$input" | OTC_SERVER_URL=$url timeout "$CLIENT_TIMEOUT" "$CHAT" --id-file "$WORK/$name.id" \
        "$DEV_API_KEY" "$SESSION_ID" "$token" >"$WORK/$name.out" 2>"$WORK/$name.err"
    echo "${PIPESTATUS[1]}" >"$WORK/$name.rc"
}

echo "== running alice and bob (c-examples/bin/chat)"
run_client alice "$ALICE_TOKEN" alice_input "$ALICE_URL" &
CLIENT_PIDS+=($!)
run_client bob "$BOB_TOKEN" bob_input "$BOB_URL" &
CLIENT_PIDS+=($!)
# Once both are in, the application server makes an announcement (REST:
# POST /v2/project/{key}/session/{id}/signal, authenticated with a project
# JWT from `otc-server rest-token`).
if wait_until 30 file_has_line "$WORK/alice.id" && wait_until 30 file_has_line "$WORK/bob.id"; then
    code=$(rest_post "/v2/project/$DEV_API_KEY/session/$SESSION_ID/signal" \
        '{"type":"announcement","data":"Welcome to the demo room"}' || true)
    echo "   REST signal from the application server: HTTP ${code:-no answer}"
fi
wait "${CLIENT_PIDS[@]}" || true
CLIENT_PIDS=()

ALICE_ID=$(head -n 1 "$WORK/alice.id" 2>/dev/null || true)
BOB_ID=$(head -n 1 "$WORK/bob.id" 2>/dev/null || true)

# Replaces connection ids with names so the transcript reads easily.
readable() {
    local f=$1
    if [ -n "$ALICE_ID" ] && [ -n "$BOB_ID" ]; then
        awk -v a="$ALICE_ID" -v b="$BOB_ID" '{
            while ((i = index($0, a)) > 0) $0 = substr($0, 1, i - 1) "alice" substr($0, i + length(a))
            while ((i = index($0, b)) > 0) $0 = substr($0, 1, i - 1) "bob" substr($0, i + length(b))
            print
        }' "$f"
    else
        cat "$f"
    fi
}

for name in alice bob; do
    echo
    echo "---------------- $name's terminal ----------------"
    readable "$WORK/$name.out" | sed 's/^/  /'
    if [ -s "$WORK/$name.err" ]; then
        echo "  (stderr)"
        sed 's/^/  | /' "$WORK/$name.err" | head -n 40
    fi
done
echo

# --- checks -----------------------------------------------------------------
FAILED=0
expect() { # FILE LINE
    if ! grep -Fxq -- "$2" "$1"; then
        echo "demo: missing from $(basename "$1" .out)'s output: $2" >&2
        FAILED=1
    fi
}
refuse() { # FILE SUBSTRING
    if grep -Fq -- "$2" "$1"; then
        echo "demo: $(basename "$1" .out) should not have seen: $2" >&2
        FAILED=1
    fi
}

[ -n "$ALICE_ID" ] || { echo "demo: alice never connected" >&2; FAILED=1; }
[ -n "$BOB_ID" ] || { echo "demo: bob never connected" >&2; FAILED=1; }
for name in alice bob; do
    rc=$(cat "$WORK/$name.rc" 2>/dev/null || echo "?")
    if [ "$rc" != 0 ]; then
        echo "demo: $name's chat exited with status $rc" >&2
        FAILED=1
    fi
done
if [ "$FAILED" = 0 ]; then
    A="$WORK/alice.out" B="$WORK/bob.out"
    expect "$A" "* connected as $ALICE_ID"
    expect "$A" "* connection created: $BOB_ID data=name=bob"
    expect "$A" "[$ALICE_ID (own)] chat: Hello everyone, this is alice"
    expect "$A" "[$BOB_ID] chat: Hi alice, bob here"
    expect "$A" "[$BOB_ID -> $ALICE_ID] private: A private reply, just for alice"
    expect "$A" "* sent privately to $BOB_ID: Psst bob, a private hello from alice"
    expect "$A" "[server] announcement: Welcome to the demo room"
    refuse "$A" "private: Psst bob"
    expect "$B" "* connected as $BOB_ID"
    expect "$B" "* connection created: $ALICE_ID data=name=alice"
    expect "$B" "[$ALICE_ID] chat: Hello everyone, this is alice"
    expect "$B" "[$ALICE_ID -> $BOB_ID] private: Psst bob, a private hello from alice"
    expect "$B" "[$BOB_ID (own)] chat: Hi alice, bob here"
    expect "$B" "* sent privately to $ALICE_ID: A private reply, just for alice"
    expect "$B" "[server] announcement: Welcome to the demo room"
    expect "$B" "* connection dropped: $ALICE_ID"
    refuse "$B" "private: A private reply"
fi

# A browser participant: the console page of the node alice used.
CONSOLE_URL="$ALICE_URL/console/"
console_help() {
    echo "== a browser participant: open $CONSOLE_URL and join with"
    echo "   API key:    $DEV_API_KEY"
    echo "   session id: $SESSION_ID"
    echo "   token:      $BROWSER_TOKEN"
    echo "   then, from another terminal, a C participant in the same session:"
    echo "   OTC_SERVER_URL=$ALICE_URL $CHAT $DEV_API_KEY $SESSION_ID \\"
    echo "       $(mint_token "$SESSION_ID" "name=terminal")"
}
if [ "$FAILED" = 0 ] && [ "${KEEP:-0}" = 1 ]; then
    console_help
    echo "== the server stays up (KEEP=1) until Ctrl-C, at most an hour"
    sleep 3600 &
    KEEPER=$!
    CLIENT_PIDS+=("$KEEPER")
    # Ctrl-C ends the wait, and the demo then stops as usual.
    trap 'kill "$KEEPER" 2>/dev/null' INT
    wait "$KEEPER" || true
    trap 'exit 130' INT
fi

echo "== stopping otc-server"
stop_server
stop_cluster
if [ "$FAILED" != 0 ]; then
    echo "== demo FAILED (server log below)" >&2
    tail -n 30 "$WORK/server.log" >&2 || true
    exit 1
fi
echo "== demo OK: broadcasts reached everyone (sender included), private signals only their"
echo "   target, and the server's REST signal arrived with no sender"
if [ "$CLUSTER" = 1 ]; then
    echo "   (alice on node-1, bob on node-2: every line crossed nodes through Redis)"
fi
if [ "${KEEP:-0}" != 1 ]; then
    echo "   To talk from a browser too: make demo KEEP=1, then open the console page it prints"
    echo "   (the server's developer's console, --console) and join with the token it prints."
fi
