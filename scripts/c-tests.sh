#!/usr/bin/env bash
# The C test suite: checks an installed libopentok the way a user meets it.
#
# Usage: scripts/c-tests.sh PREFIX
#   PREFIX is a `make install PREFIX=...` tree (the Makefile's test-c target
#   makes a fresh one). It must hold bin/otc-server too.
#
# What it checks, in order:
#   1. the installed layout: header, libopentok.so.X.Y.Z with its two
#      symlinks, a versioned SONAME (readelf -d), only otc_* symbols exported
#      (nm -D --defined-only), a libopentok.pc with the right prefix;
#   2. the installed header compiles as C99 and C++14 with
#      -Wall -Wextra -Werror -pedantic (tests/c/header_*.c*), and a program
#      links and runs against the shared and the static library;
#   3. every tests/c/test_*.c, built with
#      `pkg-config --cflags --libs libopentok`, passes against a real
#      otc-server on a free loopback port (a fresh session and three tokens
#      each); each prints "N passed, M failed";
#   4. three of them (test_lifecycle, test_media, test_video_frame) again
#      under valgrind memcheck: zero errors, zero bytes definitely lost;
#   5. the examples (c-examples/) built the same way: a chat client's lines
#      come back from the C++ echo bot, its private line is confirmed (the
#      chat under valgrind too; tests/python/test_chat_example.py covers the
#      rest of what chat does).
# Exit status 0 only when everything passed. Every step is bounded by
# `timeout`; the EXIT trap stops the server and any client still running.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

[ $# -eq 1 ] || die "usage: $0 PREFIX"
PREFIX=$(cd "$1" && pwd) || die "no such prefix: $1"
OTC_SERVER_BIN=$PREFIX/bin/otc-server
WORK=$ROOT/build/c-tests
TEST_TIMEOUT=${OTC_C_TEST_TIMEOUT:-120}
CC=${CC:-cc}
CXX=${CXX:-c++}

command -v pkg-config >/dev/null 2>&1 ||
    die "pkg-config is not installed (apt-get install pkg-config); the C tests build through it"

rm -rf "$WORK"
mkdir -p "$WORK"
BG_PIDS=()
cleanup() {
    kill_tree "${BG_PIDS[@]}"
    stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# --- 1. installed layout ------------------------------------------------------
echo "== installed layout in $PREFIX"
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
VERSION=$(pkg-config --modversion libopentok 2>/dev/null)
if [ -n "$VERSION" ]; then pass "pkg-config finds libopentok $VERSION"; else fail "pkg-config libopentok"; fi
MAJOR=${VERSION%%.*}
LIB=$PREFIX/lib
[ -f "$PREFIX/include/opentok.h" ] && pass "include/opentok.h installed" || fail "include/opentok.h installed"
if [ -f "$LIB/libopentok.so.$VERSION" ] && [ ! -L "$LIB/libopentok.so.$VERSION" ]; then
    pass "lib/libopentok.so.$VERSION is the library"
else
    fail "lib/libopentok.so.$VERSION is the library"
fi
[ "$(readlink "$LIB/libopentok.so.$MAJOR")" = "libopentok.so.$VERSION" ] &&
    pass "libopentok.so.$MAJOR -> libopentok.so.$VERSION" || fail "libopentok.so.$MAJOR symlink"
[ "$(readlink "$LIB/libopentok.so")" = "libopentok.so.$MAJOR" ] &&
    pass "libopentok.so -> libopentok.so.$MAJOR" || fail "libopentok.so symlink"
[ "$(pkg-config --variable=prefix libopentok)" = "$PREFIX" ] &&
    pass "libopentok.pc prefix is $PREFIX" || fail "libopentok.pc prefix"

SONAME=$(readelf -d "$LIB/libopentok.so.$VERSION" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$SONAME" = "libopentok.so.$MAJOR" ]; then
    pass "SONAME is $SONAME"
else
    fail "SONAME is libopentok.so.$MAJOR (readelf says '${SONAME:-none}')"
fi

nm -D --defined-only "$LIB/libopentok.so.$VERSION" | awk '{print $NF}' | sort -u >"$WORK/exports.txt"
NEXPORTS=$(grep -c '^otc_' "$WORK/exports.txt")
grep -v '^otc_' "$WORK/exports.txt" >"$WORK/foreign-exports.txt"
if [ "$NEXPORTS" -gt 0 ] && [ ! -s "$WORK/foreign-exports.txt" ]; then
    pass "only otc_* symbols exported ($NEXPORTS)"
else
    fail "only otc_* symbols exported; others: $(head -n 10 "$WORK/foreign-exports.txt" | tr '\n' ' ')"
fi
# Every function the header declares is exported (and nothing the header
# does not declare, as checked above). A name followed by "(*" is a return
# type before a function-pointer field (`otc_bool (*init)(...)`), not a
# declaration.
grep -oE '\botc_[a-z0-9_]*[[:space:]]*\([^*]' "$PREFIX/include/opentok.h" |
    sed -E 's/[[:space:]]*\(.$//' | sort -u >"$WORK/declared.txt"
MISSING=$(comm -23 "$WORK/declared.txt" <(grep '^otc_' "$WORK/exports.txt"))
if [ -z "$MISSING" ] && [ -s "$WORK/declared.txt" ]; then
    pass "every function declared in opentok.h is exported"
else
    fail "declared but not exported: $(echo "$MISSING" | tr '\n' ' ')"
fi

# --- 2. the header compiles cleanly as C99 and C++14 ------------------------
echo "== header checks"
CFLAGS_OTC=$(pkg-config --cflags libopentok)
LIBS_OTC=$(pkg-config --libs libopentok)
STRICT="-Wall -Wextra -Werror -pedantic"
compile_only() { # NAME COMPILER FLAGS... SOURCE
    local name=$1
    shift
    if timeout 120 "$@" >"$WORK/$name.log" 2>&1; then
        pass "$name"
    else
        fail "$name"
        sed 's/^/    /' "$WORK/$name.log" | head -n 30 >&2
    fi
}
# shellcheck disable=SC2086
compile_only "header compiles as C99 ($STRICT)" \
    "$CC" -std=c99 $STRICT $CFLAGS_OTC -c "$ROOT/tests/c/header_c99.c" -o "$WORK/header_c99.o"
# shellcheck disable=SC2086
compile_only "header compiles as C++14 ($STRICT)" \
    "$CXX" -std=c++14 $STRICT $CFLAGS_OTC -c "$ROOT/tests/c/header_cxx14.cpp" -o "$WORK/header_cxx14.o"
# `= {0}` in C++: g++ -Wextra warns about missing field initializers for any
# struct (a compiler rule, not the header's), so that one warning is off here.
# shellcheck disable=SC2086
compile_only "'= {0}' initializers compile as C++14" \
    "$CXX" -std=c++14 $STRICT -Wno-missing-field-initializers -DOTC_TEST_ZERO_INIT $CFLAGS_OTC \
    -c "$ROOT/tests/c/header_cxx14.cpp" -o "$WORK/header_cxx14_zero.o"
# shellcheck disable=SC2086
compile_only "header links as C99 against -lopentok" \
    "$CC" -std=c99 $STRICT $CFLAGS_OTC "$ROOT/tests/c/header_c99.c" -DOTC_TEST_MAIN -o "$WORK/header_c99" $LIBS_OTC
if [ -x "$WORK/header_c99" ]; then
    if LD_LIBRARY_PATH=$LIB timeout 30 "$WORK/header_c99" >"$WORK/header_c99.out" 2>&1; then
        pass "header constants and layout match the library"
    else
        fail "header constants and layout match the library"
        sed 's/^/    /' "$WORK/header_c99.out" >&2
    fi
fi

# The static library links with the private libraries the .pc lists.
if [ -f "$LIB/libopentok.a" ]; then
    # shellcheck disable=SC2046,SC2086
    compile_only "static link with libopentok.a and pkg-config --static" \
        "$CC" -std=c99 $STRICT $CFLAGS_OTC "$ROOT/tests/c/header_c99.c" -DOTC_TEST_MAIN \
        -o "$WORK/header_c99_static" "$LIB/libopentok.a" \
        $(pkg-config --static --libs-only-l libopentok | sed 's/-lopentok//')
    if [ -x "$WORK/header_c99_static" ]; then
        if timeout 30 "$WORK/header_c99_static" >"$WORK/header_c99_static.out" 2>&1; then
            pass "statically linked program runs"
        else
            fail "statically linked program runs"
            sed 's/^/    /' "$WORK/header_c99_static.out" >&2
        fi
    fi
fi

# --- 3. test programs against a real server ----------------------------------
echo "== building C tests with: pkg-config --cflags --libs libopentok"
TESTS=()
for src in "$ROOT"/tests/c/test_*.c; do
    name=$(basename "$src" .c)
    # shellcheck disable=SC2086
    if timeout 120 "$CC" -std=c99 -Wall -Wextra -pedantic -g -O1 $CFLAGS_OTC -o "$WORK/$name" "$src" \
        $LIBS_OTC -lpthread >"$WORK/$name.build.log" 2>&1; then
        TESTS+=("$name")
    else
        fail "build $name"
        sed 's/^/    /' "$WORK/$name.build.log" | head -n 40 >&2
    fi
done

echo "== starting otc-server"
start_server "$WORK/server.log" || die "could not start otc-server; log: $WORK/server.log"
echo "   $OTC_SERVER_URL"
export OTC_TEST_API_KEY=$DEV_API_KEY

# Runs one test binary with a fresh session and three tokens.
# Usage: run_test LABEL LOGFILE [wrapper...] -- BINARY
run_test() {
    local label=$1 log=$2
    shift 2
    local sid t1 t2 t3 rc
    sid=$(create_session) && t1=$(mint_token "$sid" "name=one") &&
        t2=$(mint_token "$sid" "name=two") && t3=$(mint_token "$sid" "name=three") || {
        fail "$label: could not create a session and tokens"
        return
    }
    local ready=$log.ready driver
    rm -f "$ready"
    OTC_TEST_SESSION_ID=$sid OTC_TEST_TOKEN_1=$t1 OTC_TEST_TOKEN_2=$t2 OTC_TEST_TOKEN_3=$t3 \
        OTC_TEST_READY_FILE=$ready LD_LIBRARY_PATH=$LIB timeout "$TEST_TIMEOUT" "$@" >"$log" 2>&1 &
    local pid=$!
    BG_PIDS+=("$pid")
    # A test that needs the outside world to act (a REST call) has a driver
    # function here, called once the program wrote its ready file.
    driver=drive_$(basename "${@: -1}")
    if declare -F "$driver" >/dev/null; then
        if wait_until 30 file_has_line "$ready"; then
            "$driver" "$sid" "$ready" >>"$log.driver" 2>&1 || fail "$label: driver $driver failed (see $log.driver)"
        else
            fail "$label: never became ready for $driver"
        fi
    fi
    wait "$pid"
    rc=$?
    BG_PIDS=()
    local summary
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    if [ $rc -eq 0 ] && [[ "$summary" =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]]; then
        pass "$label ($summary)"
    else
        [ $rc -eq 124 ] && summary="timed out after ${TEST_TIMEOUT}s; $summary"
        fail "$label (exit $rc; ${summary:-no summary line})"
        grep -E '^FAIL|on_error|panicked|ERROR' "$log" | head -n 40 | sed 's/^/    /' >&2
        echo "    full log: $log" >&2
    fi
}

# Sends the REST signals test_server_signal waits for.
drive_test_server_signal() {
    local sid=$1 two code
    two=$(awk '{print $2}' "$2")
    code=$(rest_post "/v2/project/$DEV_API_KEY/session/$sid/connection/$two/signal" \
        '{"type":"srvtype","data":"srv-two"}')
    echo "signal to one connection: HTTP $code"
    [ "$code" = 204 ] || return 1
    code=$(rest_post "/v2/project/$DEV_API_KEY/session/$sid/signal" '{"type":"srvtype","data":"srv-all"}')
    echo "signal to the session: HTTP $code"
    [ "$code" = 204 ]
}

# Checks that the server logged the issue test_session_surface reported,
# with its project, session and connection.
drive_test_session_surface() {
    local issue conn sid line
    read -r issue conn sid <"$2"
    echo "issue $issue from connection $conn in session $sid"
    wait_until 10 grep -q "$issue" "$WORK/server.log" || {
        echo "the server log has no line with issue id $issue"
        return 1
    }
    line=$(grep "$issue" "$WORK/server.log" | head -n 1)
    echo "server log: $line"
    case "$line" in
    *"issue reported"*) ;;
    *) echo "not an issue report line"; return 1 ;;
    esac
    for want in "$DEV_API_KEY" "$sid" "$conn"; do
        case "$line" in
        *"$want"*) ;;
        *) echo "the line does not name $want"; return 1 ;;
        esac
    done
}

echo "== running C tests"
for name in "${TESTS[@]}"; do
    run_test "$name" "$WORK/$name.log" "$WORK/$name"
done

# --- 4. valgrind --------------------------------------------------------------
# test_lifecycle (sessions, signals, init/destroy), test_media (every
# media function, publisher objects) and test_video_frame (frame memory:
# copies, lent buffers and their release callbacks, conversions) again under
# memcheck.
VALGRIND_TESTS=(test_lifecycle test_media test_video_frame)
if command -v valgrind >/dev/null 2>&1; then
    OTC_C_TEST_TIMEOUT_SAVED=$TEST_TIMEOUT
    TEST_TIMEOUT=$((TEST_TIMEOUT * 3))
    for vt in "${VALGRIND_TESTS[@]}"; do
        if [ -x "$WORK/$vt" ]; then
            echo "== $vt under valgrind memcheck"
            run_test "$vt under valgrind" "$WORK/$vt.valgrind.log" \
                valgrind --quiet --leak-check=full --show-leak-kinds=definite \
                --errors-for-leak-kinds=definite --error-exitcode=99 \
                --suppressions="$ROOT/tests/c/valgrind.supp" \
                "$WORK/$vt"
            if grep -q 'definitely lost: [1-9]' "$WORK/$vt.valgrind.log"; then
                fail "valgrind: bytes definitely lost in $vt"
            fi
        else
            fail "$vt was not built, so it cannot run under valgrind"
        fi
    done
    TEST_TIMEOUT=$OTC_C_TEST_TIMEOUT_SAVED
else
    echo "SKIP  valgrind is not installed: the memcheck runs of ${VALGRIND_TESTS[*]} did not happen" >&2
    echo "      (apt-get install valgrind; scripts/ensure-tools.sh does it when it can)" >&2
fi

# --- 5. the examples ----------------------------------------------------------
echo "== examples built with pkg-config"
if timeout 300 make --no-print-directory -C "$ROOT/c-examples" BIN="$WORK/examples" \
    OTC_HEADER="$PREFIX/include/opentok.h" >"$WORK/examples.build.log" 2>&1; then
    pass "c-examples build with pkg-config"
    sid=$(create_session)
    bot_token=$(mint_token "$sid" "name=bot")
    chat_token=$(mint_token "$sid" "name=chat")
    LD_LIBRARY_PATH=$LIB timeout 60 "$WORK/examples/echo_bot" --max-seconds 45 \
        --id-file "$WORK/bot.id" "$DEV_API_KEY" "$sid" "$bot_token" >"$WORK/echo_bot.out" 2>&1 &
    BOT_PID=$!
    BG_PIDS+=("$BOT_PID")
    if wait_until 20 file_has_line "$WORK/bot.id"; then
        BOT_ID=$(head -n 1 "$WORK/bot.id")
        # The chat client runs under memcheck too, when valgrind is here.
        CHAT_WRAP=()
        if command -v valgrind >/dev/null 2>&1; then
            CHAT_WRAP=(valgrind --quiet --leak-check=full --show-leak-kinds=definite
                --errors-for-leak-kinds=definite --error-exitcode=99
                --suppressions="$ROOT/tests/c/valgrind.supp")
        fi
        printf '%s\n' "/wait-peers 1 20" "/who" "/help" "hello bot" "/wait-signals 1 20" \
            "/to $BOT_ID psst bot" "/wait-signals 2 20" |
            LD_LIBRARY_PATH=$LIB timeout 120 "${CHAT_WRAP[@]}" "$WORK/examples/chat" \
                --linger 200 --id-file "$WORK/chat.id" \
                "$DEV_API_KEY" "$sid" "$chat_token" >"$WORK/chat.out" 2>&1
        chat_rc=$?
        CHAT_ID=$(head -n 1 "$WORK/chat.id" 2>/dev/null)
        if [ $chat_rc -eq 0 ] &&
            grep -Fxq "[$CHAT_ID (own)] chat: hello bot" "$WORK/chat.out" &&
            grep -Fxq "[$BOT_ID] echo: hello bot" "$WORK/chat.out" &&
            grep -Fxq "* sent privately to $BOT_ID: psst bot" "$WORK/chat.out" &&
            grep -Fxq "[$BOT_ID] echo: psst bot" "$WORK/chat.out" &&
            grep -Fxq "  /to <connection-id> <text>   private message to one connection (type \"private\")" "$WORK/chat.out"; then
            pass "chat's broadcast and private lines come back from echo_bot, the private one confirmed${CHAT_WRAP:+ (chat under valgrind: clean)}"
        else
            fail "chat <-> echo_bot (chat exit $chat_rc); chat output:"
            sed 's/^/    /' "$WORK/chat.out" >&2
        fi
    else
        fail "echo_bot did not connect"
    fi
    kill -TERM "$BOT_PID" 2>/dev/null
    if wait "$BOT_PID"; then
        pass "echo_bot exits 0 on SIGTERM"
    else
        fail "echo_bot exits 0 on SIGTERM"
        sed 's/^/    /' "$WORK/echo_bot.out" >&2
    fi
    BG_PIDS=()
else
    fail "c-examples build with pkg-config"
    sed 's/^/    /' "$WORK/examples.build.log" | head -n 40 >&2
fi

stop_server
echo
finish_suite "C suite"
