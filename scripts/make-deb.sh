#!/usr/bin/env bash
# Builds the Debian packages from a `make install` tree:
#   libopentok<MAJOR>  the shared library (its SONAME)
#   libopentok-dev     header, per-file headers, static library, pkg-config
#   otc-server         the server, a systemd unit running it as its own user,
#                      the example configuration
# Usage: scripts/make-deb.sh STAGE OUTDIR VERSION
#   STAGE   a tree made by `make install PREFIX=/usr DESTDIR=STAGE`
#   OUTDIR  where the .deb files go
# Uses dpkg-deb only (no debhelper), so it runs on any Debian machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STAGE=$(cd "$1" && pwd)
OUT=$2
VERSION=$3
MAJOR=${VERSION%%.*}
ARCH=$(dpkg --print-architecture)
MAINT="otc maintainers <maintainers@localhost>"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# control FILE PACKAGE SECTION DEPENDS DESCRIPTION...
control() {
    local dir=$1 pkg=$2 section=$3 depends=$4
    shift 4
    mkdir -p "$dir/DEBIAN"
    {
        echo "Package: $pkg"
        echo "Version: $VERSION"
        echo "Architecture: $ARCH"
        echo "Maintainer: $MAINT"
        echo "Section: $section"
        echo "Priority: optional"
        [ -n "$depends" ] && echo "Depends: $depends"
        echo "Installed-Size: $(du -sk --exclude=DEBIAN "$dir" | cut -f1)"
        echo "Homepage: https://localhost/otc"
        echo "Description: $1"
        shift
        for line in "$@"; do echo " $line"; done
    } >"$dir/DEBIAN/control"
}

copyright() {
    install -d "$1/usr/share/doc/$2"
    install -m 644 "$ROOT/LICENSE" "$1/usr/share/doc/$2/copyright" 2>/dev/null ||
        echo "License: Apache-2.0 (see the project's Cargo.toml)" >"$1/usr/share/doc/$2/copyright"
}

build() {
    local dir=$1 pkg=$2
    find "$dir" -path "$dir/DEBIAN" -prune -o -type d -exec chmod 755 {} +
    dpkg-deb --root-owner-group --build "$dir" "$OUT/${pkg}_${VERSION}_${ARCH}.deb" >/dev/null
    echo "built $OUT/${pkg}_${VERSION}_${ARCH}.deb"
}

# --- libopentok<MAJOR> --------------------------------------------------------
LIB=$WORK/lib
install -d "$LIB/usr/lib"
cp -a "$STAGE/usr/lib/libopentok.so.$VERSION" "$STAGE/usr/lib/libopentok.so.$MAJOR" "$LIB/usr/lib/"
copyright "$LIB" "libopentok$MAJOR"
control "$LIB" "libopentok$MAJOR" libs "libc6" \
    "signaling library with the Vonage Video (OpenTok) Linux SDK's C API" \
    "libopentok implements the C API of the Vonage Video Linux SDK against a" \
    "self-hosted otc-server: sessions, connections and signals are real; media" \
    "functions exist and fail as the SDK documents."
build "$LIB" "libopentok$MAJOR"

# --- libopentok-dev -------------------------------------------------------------
DEV=$WORK/dev
install -d "$DEV/usr/lib/pkgconfig" "$DEV/usr/include"
cp -a "$STAGE/usr/include/opentok.h" "$STAGE/usr/include/opentok" "$DEV/usr/include/"
cp -a "$STAGE/usr/lib/libopentok.so" "$DEV/usr/lib/"
[ -f "$STAGE/usr/lib/libopentok.a" ] && cp -a "$STAGE/usr/lib/libopentok.a" "$DEV/usr/lib/"
cp -a "$STAGE/usr/lib/pkgconfig/libopentok.pc" "$DEV/usr/lib/pkgconfig/"
copyright "$DEV" libopentok-dev
control "$DEV" libopentok-dev libdevel "libopentok$MAJOR (= $VERSION)" \
    "development files for libopentok" \
    "The header opentok.h with the SDK's per-file headers (opentok/*.h), the" \
    "static library and the pkg-config file (pkg-config --cflags --libs libopentok)."
build "$DEV" libopentok-dev

# --- otc-server -------------------------------------------------------------------
SRV=$WORK/server
install -d "$SRV/usr/bin" "$SRV/lib/systemd/system" "$SRV/etc/otc-server" "$SRV/usr/share/doc/otc-server"
cp -a "$STAGE/usr/bin/otc-server" "$SRV/usr/bin/"
install -m 644 "$ROOT/packaging/otc-server.service" "$SRV/lib/systemd/system/otc-server.service"
if [ -f "$ROOT/otc-server.example.toml" ]; then
    install -m 640 "$ROOT/otc-server.example.toml" "$SRV/etc/otc-server/otc-server.toml"
    install -m 644 "$ROOT/otc-server.example.toml" "$SRV/usr/share/doc/otc-server/otc-server.example.toml"
else
    printf '# otc-server configuration: see /usr/share/doc/otc-server/README.md\n' \
        >"$SRV/etc/otc-server/otc-server.toml"
    chmod 640 "$SRV/etc/otc-server/otc-server.toml"
fi
install -m 644 "$ROOT/server/README.md" "$SRV/usr/share/doc/otc-server/README.md"
[ -f "$ROOT/docs/deploy.md" ] && install -m 644 "$ROOT/docs/deploy.md" "$SRV/usr/share/doc/otc-server/deploy.md"
copyright "$SRV" otc-server
mkdir -p "$SRV/DEBIAN"
echo "/etc/otc-server/otc-server.toml" >"$SRV/DEBIAN/conffiles"
cat >"$SRV/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
# Creates the otc-server system user and lets it read its configuration.
set -e
if [ "$1" = configure ]; then
    if ! getent passwd otc-server >/dev/null; then
        adduser --system --group --no-create-home --home /nonexistent otc-server >/dev/null
    fi
    chgrp otc-server /etc/otc-server/otc-server.toml
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload >/dev/null 2>&1 || true
    fi
fi
exit 0
POSTINST
cat >"$SRV/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
POSTRM
chmod 755 "$SRV/DEBIAN/postinst" "$SRV/DEBIAN/postrm"
control "$SRV" otc-server net "libc6, adduser" \
    "self-hosted signaling server for Vonage Video (OpenTok) applications" \
    "otc-server keeps sessions and connections, routes signals, checks OpenTok" \
    "tokens and serves the OpenTok REST API. Enable it with" \
    "systemctl enable --now otc-server after configuring /etc/otc-server/otc-server.toml."
build "$SRV" otc-server
