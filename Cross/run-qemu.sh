#!/usr/bin/env bash
# Runs a cross-built binary under qemu user-mode emulation, with the target
# sysroot as its root for the dynamic loader and libraries:
#
#   bash Cross/run-qemu.sh arm64|armhf [ARGS...]     runs .build-cross/ARCH/atad
#   ATAD_BIN=path bash Cross/run-qemu.sh arm64 ...    runs another binary
#
# Needs qemu-user-static (qemu-aarch64-static / qemu-arm-static).
set -euo pipefail
ARCH="${1:-}"
case "$ARCH" in
  arm64) QEMU=qemu-aarch64-static; GNU_TRIPLE=aarch64-linux-gnu ;;
  armhf) QEMU=qemu-arm-static;     GNU_TRIPLE=arm-linux-gnueabihf ;;
  *) echo "usage: $0 arm64|armhf [ARGS...]" >&2; exit 2 ;;
esac
shift
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SR="$ROOT/.build-cross/sysroot-$ARCH"
BIN="${ATAD_BIN:-$ROOT/.build-cross/$ARCH/atad}"
command -v "$QEMU" >/dev/null || { echo "run-qemu.sh: $QEMU not found: apt-get install qemu-user-static" >&2; exit 1; }
[[ -d "$SR" ]] || { echo "run-qemu.sh: no $SR: run Cross/sysroot.sh $ARCH (or Cross/build.sh $ARCH)" >&2; exit 1; }
[[ -x "$BIN" ]] || { echo "run-qemu.sh: no $BIN: run Cross/build.sh $ARCH" >&2; exit 1; }
# -L makes qemu resolve the loader (/lib/ld-linux-*.so.*) and every absolute
# path the loader opens inside the sysroot first; LD_LIBRARY_PATH (set only in
# the guest, via -E) names the target's multiarch library dirs explicitly.
exec "$QEMU" -L "$SR" \
  -E "LD_LIBRARY_PATH=$SR/lib/$GNU_TRIPLE:$SR/usr/lib/$GNU_TRIPLE" \
  "$BIN" "$@"
