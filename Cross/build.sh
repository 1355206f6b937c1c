#!/usr/bin/env bash
# Cross-compiles the Embedded Swift firmware for an ARM board:
#
#   bash Cross/build.sh arm64|armhf        -> .build-cross/ARCH/atad (stripped)
#
# Steps: target sysroot (Cross/sysroot.sh, cached), SwiftPM toolset
# (Cross/toolset.sh), `swift build --triple <none triple> --toolset ...` with
# pkg-config pointed at the sysroot, then strip and report.
# Env: ATAD_PACKAGE=DIR builds another package (default: this repo),
#      ATAD_PRODUCT=NAME another product (default: atad),
#      SWIFT_BUILD_FLAGS="..." extra `swift build` flags (e.g. -v).
# Only one Swift build may run at a time on the shared machine: the build is
# wrapped in flock /tmp/atad-swift-build.lock.
set -euo pipefail

ARCH="${1:-}"
case "$ARCH" in
  arm64) GNU_TRIPLE=aarch64-linux-gnu;   SWIFT_TRIPLE=aarch64-none-none-elf ;;
  armhf) GNU_TRIPLE=arm-linux-gnueabihf; SWIFT_TRIPLE=armv7-none-none-eabi ;;
  *) echo "usage: $0 arm64|armhf" >&2; exit 2 ;;
esac

CROSS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$CROSS")"
PKG="$(cd "${ATAD_PACKAGE:-$ROOT}" && pwd)"
PRODUCT="${ATAD_PRODUCT:-atad}"
SR="$ROOT/.build-cross/sysroot-$ARCH"
SCRATCH="$PKG/.build-cross/$ARCH-build"
OUTDIR="$PKG/.build-cross/$ARCH"

t0=$(date +%s)
bash "$CROSS/sysroot.sh" "$ARCH"
t1=$(date +%s)
TOOLSET="$(bash "$CROSS/toolset.sh" "$ARCH")"

# SwiftPM reads .pc files itself: search only the target's pkgconfig dirs and
# prefix their paths with the sysroot (never the host's /usr/lib/x86_64-linux-gnu).
# Cross/pkgconfig-static comes first: spandsp is linked from its static
# archive (see the .pc file there).
PCDIRS="$CROSS/pkgconfig-static:$SR/usr/lib/$GNU_TRIPLE/pkgconfig:$SR/usr/share/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$SR"
export PKG_CONFIG_LIBDIR="$PCDIRS"
export PKG_CONFIG_PATH="$PCDIRS"

# Every pkgConfig name the package declares must come from the sysroot.
if [[ -f "$PKG/Package.swift" ]]; then
  for pc in $(grep -o 'pkgConfig: *"[^"]*"' "$PKG/Package.swift" | sed 's/.*"\(.*\)"/\1/' | sort -u); do
    if [[ ! -f "$SR/usr/lib/$GNU_TRIPLE/pkgconfig/$pc.pc" && ! -f "$SR/usr/share/pkgconfig/$pc.pc" ]]; then
      echo "build.sh: $pc.pc is not in sysroot-$ARCH: add its -dev package to Cross/sysroot.sh" >&2
      exit 1
    fi
  done
fi

# SwiftPM does not rebuild when only compiler flags change: start over when
# the toolset differs from the one the scratch folder was built with.
TOOLSET_SUM="$(sha256sum "$TOOLSET" | cut -c1-16)"
if [[ -d "$SCRATCH" && "$(cat "$SCRATCH/.atad-toolset" 2>/dev/null)" != "$TOOLSET_SUM" ]]; then
  rm -rf "$SCRATCH"
fi
mkdir -p "$SCRATCH"
echo "$TOOLSET_SUM" > "$SCRATCH/.atad-toolset"

echo "build.sh: swift build $PRODUCT for $ARCH ($SWIFT_TRIPLE)"
# shellcheck disable=SC2086
flock /tmp/atad-swift-build.lock \
  swift build --package-path "$PKG" -c release --product "$PRODUCT" \
    --triple "$SWIFT_TRIPLE" --toolset "$TOOLSET" --scratch-path "$SCRATCH" \
    --pkg-config-path "$CROSS/pkgconfig-static" \
    --pkg-config-path "$SR/usr/lib/$GNU_TRIPLE/pkgconfig" \
    --pkg-config-path "$SR/usr/share/pkgconfig" \
    --experimental-lto-mode=full ${SWIFT_BUILD_FLAGS:-}
t2=$(date +%s)

BIN="$SCRATCH/$SWIFT_TRIPLE/release/$PRODUCT"
mkdir -p "$OUTDIR"
cp "$BIN" "$OUTDIR/$PRODUCT.debug"
TOOLCHAIN_BIN="$(dirname "$(readlink -f "$(command -v swiftc)")")"
if [[ -x "$TOOLCHAIN_BIN/llvm-strip" ]]; then
  "$TOOLCHAIN_BIN/llvm-strip" -s -o "$OUTDIR/$PRODUCT" "$BIN"
elif [[ -x "$TOOLCHAIN_BIN/llvm-objcopy" ]]; then
  "$TOOLCHAIN_BIN/llvm-objcopy" --strip-all "$BIN" "$OUTDIR/$PRODUCT"
else
  # binutils-multiarch's strip handles ARM ELF files.
  strip -s -o "$OUTDIR/$PRODUCT" "$BIN"
fi

echo
echo "== $OUTDIR/$PRODUCT"
file "$OUTDIR/$PRODUCT" 2>/dev/null || true
echo "stripped size: $(stat -c %s "$OUTDIR/$PRODUCT") bytes (unstripped $(stat -c %s "$BIN"))"
echo "NEEDED:"
readelf -d "$OUTDIR/$PRODUCT" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/  \1/p'
echo "time: sysroot $((t1 - t0))s, build $((t2 - t1))s"
if [[ "$PRODUCT" == atad ]]; then bash "$CROSS/check-size.sh" "$ARCH" "$OUTDIR/$PRODUCT"; fi
