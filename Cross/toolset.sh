#!/usr/bin/env bash
# Renders Cross/ARCH.toolset.json.in into .build-cross/ARCH.toolset.json
# (SwiftPM toolsets need absolute paths) and prints its path.
#   bash Cross/toolset.sh arm64|armhf
set -euo pipefail
ARCH="${1:-}"
case "$ARCH" in
  arm64) GNU_TRIPLE=aarch64-linux-gnu;   SWIFT_TRIPLE=aarch64-none-none-elf ;;
  armhf) GNU_TRIPLE=arm-linux-gnueabihf; SWIFT_TRIPLE=armv7-none-none-eabi ;;
  *) echo "usage: $0 arm64|armhf" >&2; exit 2 ;;
esac
CROSS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$CROSS")"
SYSROOT="$ROOT/.build-cross/sysroot-$ARCH"
SWIFTC="$(readlink -f "$(command -v swiftc)")"
TOOLCHAIN="$(dirname "$(dirname "$SWIFTC")")"   # .../usr
OUT="$ROOT/.build-cross/$ARCH.toolset.json"
# A change to link.sh or to the sysroot changes the link command, so SwiftPM relinks.
REV="$(cat "$CROSS/link.sh" "$SYSROOT/.atad-sysroot-stamp" 2>/dev/null | sha256sum | cut -c1-16)"
mkdir -p "$(dirname "$OUT")"
sed -e "s|@SYSROOT@|$SYSROOT|g" -e "s|@GNU_TRIPLE@|$GNU_TRIPLE|g" \
    -e "s|@SWIFT_TRIPLE@|$SWIFT_TRIPLE|g" -e "s|@CROSS@|$CROSS|g" \
    -e "s|@TOOLCHAIN@|$TOOLCHAIN|g" -e "s|@REV@|$REV|g" "$CROSS/$ARCH.toolset.json.in" > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$OUT"
