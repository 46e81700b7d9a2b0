#!/usr/bin/env bash
# Tests the Debian packages by unpacking them and running what they contain:
# the files are where Debian expects them, the binaries are stripped, the
# library carries its SONAME, a C program builds through the dev package's
# pkg-config file and links its library, and the packaged server runs and
# serves that program.
# Usage: scripts/deb-test.sh DEBDIR VERSION
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEBS=$(cd "$1" && pwd)
VERSION=$2
MAJOR=${VERSION%%.*}
ARCH=$(dpkg --print-architecture)
WORK=$(mktemp -d)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
trap 'stop_server; rm -rf "$WORK"' EXIT
R=$WORK/root

deb() { echo "$DEBS/${1}_${VERSION}_${ARCH}.deb"; }
for p in "libopentok$MAJOR" libopentok-dev otc-server; do
    if [ -f "$(deb "$p")" ] && dpkg-deb --info "$(deb "$p")" >"$WORK/$p.info" 2>&1; then
        pass "$p package is a valid .deb"
        dpkg-deb -x "$(deb "$p")" "$R"
    else
        fail "$p package is a valid .deb ($(deb "$p"))"
    fi
done

has() { if [ -e "$R$1" ]; then pass "$2 ships $1"; else fail "$2 ships $1"; fi; }
has "/usr/lib/libopentok.so.$VERSION" "libopentok$MAJOR"
has "/usr/lib/libopentok.so.$MAJOR" "libopentok$MAJOR"
has /usr/include/opentok.h libopentok-dev
has /usr/include/opentok/session.h libopentok-dev
has /usr/lib/pkgconfig/libopentok.pc libopentok-dev
has /usr/lib/libopentok.so libopentok-dev
has /usr/bin/otc-server otc-server
has /lib/systemd/system/otc-server.service otc-server
has /etc/otc-server/otc-server.toml otc-server

grep -q "Depends: libopentok$MAJOR (= $VERSION)" "$WORK/libopentok-dev.info" &&
    pass "libopentok-dev depends on the exact runtime version" || fail "libopentok-dev Depends"
grep -q "User=otc-server" "$R/lib/systemd/system/otc-server.service" &&
    grep -q "ExecStart=/usr/bin/otc-server serve" "$R/lib/systemd/system/otc-server.service" &&
    pass "the unit runs /usr/bin/otc-server as its own user" || fail "systemd unit"
dpkg-deb -e "$(deb otc-server)" "$WORK/ctl"
grep -q "adduser --system" "$WORK/ctl/postinst" && pass "postinst creates the system user" ||
    fail "postinst creates the system user"

readelf -d "$R/usr/lib/libopentok.so.$VERSION" | grep -q "Library soname: \[libopentok.so.$MAJOR\]" &&
    pass "the library's SONAME is libopentok.so.$MAJOR" || fail "SONAME"
for f in "/usr/bin/otc-server" "/usr/lib/libopentok.so.$VERSION"; do
    if readelf -S "$R$f" | grep -qE '\.symtab|\.debug_info'; then
        fail "$f is stripped"
    else
        pass "$f is stripped"
    fi
done

# A C program through the packaged pkg-config file, against the packaged
# library, served by the packaged server.
export PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_LIBDIR=$R/usr/lib/pkgconfig
if cc -std=c99 -O1 -o "$WORK/chat" "$ROOT/c-examples/chat.c" \
    $(pkg-config --cflags --libs libopentok) -lpthread >"$WORK/build.log" 2>&1; then
    pass "a C program builds with the dev package's pkg-config"
else
    fail "a C program builds with the dev package's pkg-config"
    sed 's/^/    /' "$WORK/build.log" >&2
fi
OTC_SERVER_BIN=$R/usr/bin/otc-server
"$OTC_SERVER_BIN" --help >/dev/null 2>&1 && pass "the packaged otc-server runs" || fail "otc-server --help"
if [ -x "$WORK/chat" ] && start_server "$WORK/server.log"; then
    sid=$(create_session) && tok=$(mint_token "$sid" "")
    chat_status=0
    printf 'hello from the package\n' |
        LD_LIBRARY_PATH=$R/usr/lib timeout 30 "$WORK/chat" --linger 1000 100000 "$sid" "$tok" \
            >"$WORK/chat.log" 2>&1 || chat_status=$?
    linked=no
    LD_LIBRARY_PATH=$R/usr/lib ldd "$WORK/chat" | grep -q "$R/usr/lib/libopentok.so.$MAJOR" && linked=yes
    if [ "$chat_status" = 0 ] && grep -q "hello from the package" "$WORK/chat.log" && [ $linked = yes ]; then
        pass "the program, on the packaged library, signals through the packaged server"
    else
        # The exit status tells a refusal (1) from a hang (124) or a crash
        # (128 + signal); the server's log says what it saw.
        fail "the program signals through the packaged server (exit status $chat_status, linked to the package: $linked)"
        sed 's/^/    /' "$WORK/chat.log" >&2
        echo "    --- server log" >&2
        tail -n 20 "$WORK/server.log" | sed 's/^/    /' >&2
    fi
    stop_server
else
    fail "the packaged server starts"
fi
finish_suite "Debian packages"
