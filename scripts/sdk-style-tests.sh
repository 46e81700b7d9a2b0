#!/usr/bin/env bash
# The SDK-style suite: checks an installed libopentok against the Vonage
# Video Linux SDK 2.32 the way code written for that SDK meets it.
#
# Usage: scripts/sdk-style-tests.sh PREFIX
#   PREFIX is a `make install PREFIX=...` tree holding bin/otc-server too
#   (the Makefile's test-sdk-style target makes a fresh one).
#
# What it checks, in order:
#   1. each per-file header (<opentok/X.h>, the names listed in
#      build-support/per_file_headers.rs) is installed and compiles alone in
#      a C file (gcc -std=c99) and a C++ file (clang++ -std=c++14
#      -stdlib=libc++), with -Wall -Wextra -Werror -pedantic;
#   2. the layout test (tests/sdk/layout_check.c): sizes, alignments and
#      field offsets of every SDK struct, every enum member's value, the
#      macros and typedefs, built from the same source as C99 (gcc) and as
#      C++14 (clang++ -stdlib=libc++), strict warnings; the whole program,
#      then each header's group alone (tests/sdk/layout_one.c), so a group
#      that does not build (a name our header lacks, which the compiler's
#      message names) keeps none of the others from running;
#   3. the SDK-style program (tests/sdk/cmake: CMake, clang++ -std=c++14
#      -stdlib=libc++) configured and built twice, once finding libopentok
#      through LIBOPENTOK_PATH=PREFIX and once through pkg-config; each
#      binary must load the libopentok of PREFIX;
#   4. both builds run against an otc-server on a free loopback port, each
#      with a fresh session and token; each prints "N passed, M failed".
# Prints a summary; exits non-zero on any failure. Every compile, run and
# wait is bounded by `timeout`; the EXIT trap stops the server (by its PID).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

[ $# -eq 1 ] || die "usage: $0 PREFIX"
PREFIX=$(cd "$1" && pwd) || die "no such prefix: $1"
OTC_SERVER_BIN=$PREFIX/bin/otc-server
WORK=${OTC_SDK_STYLE_WORK:-$ROOT/build/sdk-style}
RUN_TIMEOUT=${OTC_SDK_STYLE_TIMEOUT:-90}
# The C side is built by gcc, the C++ side by clang++ with libc++, as the
# SDK's samples are.
SDK_CC=${SDK_CC:-gcc}
SDK_CXX=${SDK_CXX:-clang++}
STRICT=(-Wall -Wextra -Werror -pedantic)
C_FLAGS=(-std=c99 "${STRICT[@]}")
CXX_FLAGS=(-std=c++14 -stdlib=libc++ "${STRICT[@]}")
SDK_DIR=$ROOT/tests/sdk
# Compiler messages in ASCII, so the names in them can be picked out.
export LC_ALL=C

for tool in "$SDK_CC" "$SDK_CXX" clang cmake pkg-config; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool is not installed; scripts/ensure-tools.sh installs cmake, clang, libc++-dev and libc++abi-dev"
done
[ -f "$PREFIX/include/opentok.h" ] || die "no $PREFIX/include/opentok.h: is $PREFIX a make install prefix?"
[ -x "$OTC_SERVER_BIN" ] || die "no $OTC_SERVER_BIN: is $PREFIX a make install prefix?"

rm -rf "$WORK"
mkdir -p "$WORK"
cleanup() {
    stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM

indent() {
    sed 's/^/    /' >&2
}

# The names a failed build says our header lacks, from gcc's and clang's
# messages: undeclared identifiers and type names, incomplete struct or
# enum types, missing fields.
missing_names() {
    sed -n -E \
        -e "s/.*error: use of undeclared identifier '([A-Za-z_0-9]+)'.*/\1/p" \
        -e "s/.*error: '([A-Za-z_0-9]+)' undeclared.*/\1/p" \
        -e "s/.*error: unknown type name '([A-Za-z_0-9]+)'.*/\1/p" \
        -e "s/.*error: no member named '([A-Za-z_0-9]+)' in '((struct|enum) [A-Za-z_0-9]+)'.*/\2.\1/p" \
        -e "s/.*error: '((struct|enum) [A-Za-z_0-9]+)' has no member named '([A-Za-z_0-9]+)'.*/\1.\3/p" \
        -e "s/.*error: .*(incomplete|undefined) type '((struct|enum) [A-Za-z_0-9]+)'.*/\2/p" \
        -e "s/.*error: use of enum '([A-Za-z_0-9]+)' without previous declaration.*/enum \1/p" \
        "$1" | sort -u | paste -sd, - | sed 's/,/, /g'
}

# Explains a failed build: the names it lacked, then its first distinct errors.
show_build_errors() {
    local log=$1 names
    names=$(missing_names "$log")
    if [ -n "$names" ]; then
        echo "not declared by our opentok.h: $names" | fold -s -w 100 | indent
    fi
    grep -E 'error:' "$log" | sed -E 's/^[^ ]*:[0-9]+:[0-9]+: //' | awk '!seen[$0]++' |
        head -n 12 | indent || true
    echo "full log: $log" | indent
}

# Runs a built check program and judges it by its exit status and its
# closing "N passed, M failed" line. Usage: run_checks LABEL LOG COMMAND...
run_checks() {
    local label=$1 log=$2 rc=0 summary
    shift 2
    timeout "$RUN_TIMEOUT" "$@" >"$log" 2>&1 || rc=$?
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
    if [ $rc -eq 0 ] && [[ "$summary" =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]]; then
        pass "$label ($summary)"
    else
        [ $rc -eq 124 ] && summary="timed out after ${RUN_TIMEOUT}s; $summary"
        fail "$label (exit $rc; ${summary:-no summary line})"
        grep -E '^FAIL|DIFFER|panicked' "$log" | head -n 40 | indent || true
        echo "full log: $log" | indent
    fi
}

# --- 1. per-file headers compile on their own ---------------------------------
echo "== per-file headers, each alone (C99 with $SDK_CC, C++14 with $SDK_CXX -stdlib=libc++)"
mapfile -t HEADERS < <(sed -n '/SDK_HEADERS/,/^];/p' "$ROOT/build-support/per_file_headers.rs" |
    sed -n 's/^[[:space:]]*"\([a-z_0-9]*\)",.*/\1/p')
[ ${#HEADERS[@]} -gt 0 ] || die "could not read the header list from build-support/per_file_headers.rs"
mkdir -p "$WORK/alone"
for h in "${HEADERS[@]}"; do
    if [ ! -f "$PREFIX/include/opentok/$h.h" ]; then
        fail "<opentok/$h.h> is installed in $PREFIX/include"
        continue
    fi
    printf '#include <opentok/%s.h>\n' "$h" >"$WORK/alone/$h.c"
    if timeout 120 "$SDK_CC" "${C_FLAGS[@]}" -I"$PREFIX/include" -c "$WORK/alone/$h.c" \
        -o "$WORK/alone/$h.c.o" >"$WORK/alone/$h.c.log" 2>&1 &&
        timeout 120 "$SDK_CXX" -x c++ "${CXX_FLAGS[@]}" -I"$PREFIX/include" -c "$WORK/alone/$h.c" \
            -o "$WORK/alone/$h.cpp.o" >"$WORK/alone/$h.cpp.log" 2>&1; then
        pass "#include <opentok/$h.h> alone compiles as C99 and C++14"
    else
        fail "#include <opentok/$h.h> alone compiles as C99 and C++14"
        cat "$WORK/alone/$h.c.log" "$WORK/alone/$h.cpp.log" 2>/dev/null | head -n 20 | indent || true
    fi
done

# --- 2. the layout test, as C and as C++ --------------------------------------
# Usage: layout_build LANG OUT LOG SOURCE [-D...]
layout_build() {
    local lang=$1 out=$2 log=$3
    shift 3
    if [ "$lang" = C99 ]; then
        timeout 120 "$SDK_CC" "${C_FLAGS[@]}" -I"$PREFIX/include" "$@" -o "$out" >"$log" 2>&1
    else
        timeout 120 "$SDK_CXX" -x c++ "${CXX_FLAGS[@]}" -ferror-limit=0 -I"$PREFIX/include" "$@" \
            -o "$out" >"$log" 2>&1
    fi
}

echo "== SDK 2.32 layout (tests/sdk/layout_check.c)"
mkdir -p "$WORK/layout"
for lang in C99 C++14; do
    tag=${lang//+/x}
    exe=$WORK/layout/layout_check-$tag
    if layout_build "$lang" "$exe" "$exe.build.log" "$SDK_DIR/layout_check.c"; then
        run_checks "layout_check.c as $lang: every SDK struct, field and enum value" "$exe.log" "$exe"
    else
        fail "layout_check.c builds as $lang (the groups below say which names are missing)"
    fi
    for group in "$SDK_DIR"/layout/check_*.h; do
        name=$(basename "$group" .h)
        name=${name#check_}
        exe=$WORK/layout/$name-$tag
        if layout_build "$lang" "$exe" "$exe.build.log" "$SDK_DIR/layout_one.c" \
            -DLC_GROUP_FILE="\"layout/check_$name.h\"" -DLC_GROUP_FUNCTION="lc_check_$name"; then
            run_checks "layout of $name.h as $lang" "$exe.log" "$exe"
        else
            fail "layout of $name.h as $lang: does not build"
            show_build_errors "$exe.build.log"
        fi
    done
done

# --- 3. the SDK-style CMake program, built two ways ---------------------------
echo "== SDK-style CMake program (tests/sdk/cmake), CC=clang CXX=clang++"
BUILT=()
# Usage: cmake_build NAME EXPECTED_CONFIGURE_LINE ENV_ASSIGNMENTS...
cmake_build() {
    local name=$1 expect=$2 dir=$WORK/cmake-$1 exe
    shift 2
    exe=$dir/sdk_style_check
    # -ferror-limit=0: a build that fails names everything it lacks.
    if ! env -u LIBOPENTOK_PATH -u PKG_CONFIG_PATH CC=clang CXX=clang++ "$@" \
        timeout 300 cmake -S "$SDK_DIR/cmake" -B "$dir" -DCMAKE_CXX_FLAGS=-ferror-limit=0 \
        >"$WORK/cmake-$name.configure.log" 2>&1; then
        fail "cmake configures with $name"
        tail -n 30 "$WORK/cmake-$name.configure.log" | indent || true
        return 0
    fi
    if grep -q "libopentok: through $expect" "$WORK/cmake-$name.configure.log"; then
        pass "cmake configures with $name (found libopentok through $expect)"
    else
        fail "cmake configures with $name: it did not find libopentok through $expect"
        grep 'libopentok' "$WORK/cmake-$name.configure.log" | indent || true
    fi
    if ! timeout 600 cmake --build "$dir" -- -j1 >"$WORK/cmake-$name.build.log" 2>&1; then
        fail "the SDK-style program builds with $name"
        show_build_errors "$WORK/cmake-$name.build.log"
        return 0
    fi
    pass "the SDK-style program builds with $name"
    # The binary loads the libopentok it was configured with, from PREFIX.
    local loaded
    loaded=$(env -u LD_LIBRARY_PATH timeout 30 ldd "$exe" | awk '$1 ~ /^libopentok\.so/ {print $3}') || true
    case "$loaded" in
    "$PREFIX"/lib/*) pass "the $name build loads $loaded" ;;
    *) fail "the $name build loads libopentok from $PREFIX/lib (ldd says '${loaded:-not found}')" ;;
    esac
    BUILT+=("$name")
}
cmake_build LIBOPENTOK_PATH LIBOPENTOK_PATH "LIBOPENTOK_PATH=$PREFIX"
cmake_build pkg-config pkg-config "PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig"

# --- 4. run both against a real server ----------------------------------------
if [ ${#BUILT[@]} -gt 0 ]; then
    echo "== starting otc-server"
    if start_server "$WORK/server.log"; then
        echo "   $OTC_SERVER_URL"
        for name in "${BUILT[@]}"; do
            if sid=$(create_session) && [ -n "$sid" ] &&
                token=$(mint_token "$sid" "name=sdk-style-$name") && [ -n "$token" ]; then
                run_checks "the SDK-style program ($name build) against otc-server" \
                    "$WORK/cmake-$name.run.log" \
                    "$WORK/cmake-$name/sdk_style_check" "$OTC_SERVER_URL" "$DEV_API_KEY" "$sid" "$token"
            else
                fail "the SDK-style program ($name build): could not create a session and a token"
            fi
        done
        stop_server
    else
        fail "otc-server starts (log: $WORK/server.log)"
    fi
else
    echo "SKIP  no SDK-style program was built, so none runs against otc-server" >&2
fi

echo
finish_suite "SDK-style suite"
