#!/usr/bin/env bash
# Packages a built firmware binary as a Debian package:
#   bash Debian/build-deb.sh amd64|arm64|armhf BINARY OUTDIR
# The binary's NEEDED libraries become the package's Depends.
set -euo pipefail
ARCH="$1"; BINARY="$2"; OUTDIR="$3"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="$(sed -n 's/.*static let number = "\(.*\)"/\1/p' "$ROOT/Sources/Daemon/Version.swift")"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

install -D -m 0755 "$BINARY" "$STAGE/usr/sbin/atad"
install -D -m 0640 "$ROOT/etc/atad.conf" "$STAGE/etc/atad/atad.conf"
for board in "$ROOT"/Board/*.conf; do
  # The test rig's board (Tests/Rig) describes simulated hardware only.
  [ "$(basename "$board")" = box.conf ] && continue
  install -D -m 0644 "$board" "$STAGE/usr/share/atad/boards/$(basename "$board")"
done
install -D -m 0644 "$ROOT/Board/README.md" "$STAGE/usr/share/doc/atad/boards.md" 2>/dev/null || true
install -D -m 0644 "$ROOT/README.md" "$STAGE/usr/share/doc/atad/README.md"
install -D -m 0644 "$ROOT/Debian/atad.service" "$STAGE/lib/systemd/system/atad.service"
install -D -m 0644 /dev/null "$STAGE/usr/lib/tmpfiles.d/atad.conf"
echo "d /run/atad 0755 atad atad -" > "$STAGE/usr/lib/tmpfiles.d/atad.conf"

# Shared libraries the binary loads -> Debian runtime packages.
depends=""
for lib in $(readelf -d "$BINARY" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  case "$lib" in
    libc.so.6|libm.so.6|ld-linux*) pkg="libc6 (>= 2.36)" ;;
    libgcc_s.so.1) pkg="libgcc-s1" ;;
    libgpiod.so.2) pkg="libgpiod2" ;;
    libasound.so.2) pkg="libasound2" ;;
    libssl.so.3|libcrypto.so.3) pkg="libssl3" ;;
    libcares.so.2) pkg="libc-ares2" ;;
    *) echo "build-deb.sh: no Debian package known for $lib" >&2; exit 1 ;;
  esac
  case ", $depends, " in *", $pkg, "*) ;; *) depends="${depends:+$depends, }$pkg" ;; esac
done

mkdir -p "$STAGE/DEBIAN"
install -m 0755 "$ROOT/Debian/postinst" "$ROOT/Debian/prerm" "$ROOT/Debian/postrm" "$STAGE/DEBIAN/"
echo "/etc/atad/atad.conf" > "$STAGE/DEBIAN/conffiles"
SIZE_KB=$(du -sk "$STAGE" --exclude=DEBIAN | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: atad
Version: $VERSION
Architecture: $ARCH
Maintainer: atad developers <atad@invalid>
Installed-Size: $SIZE_KB
Depends: $depends, adduser
Section: comm
Priority: optional
Homepage: https://atad.invalid
Description: analog telephone adapter for Linux boards with a SLIC
 atad turns a board with an AG1171-class SLIC module and a USB sound card
 into an analog telephone adapter: the hook switch and ringer on GPIO,
 call progress tones and DTMF, and a SIP user agent, in one small daemon.
CONTROL
mkdir -p "$OUTDIR"
OUT="$OUTDIR/atad_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group --build "$STAGE" "$OUT" >/dev/null
echo "$OUT"
