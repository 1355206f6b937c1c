#!/usr/bin/env bash
# Prepares the board-in-a-box rig from Debian packages only, into a cache
# folder (default .build-rig/ in the repository):
#   - Debian 12's generic amd64 kernel with its modules, the matching headers,
#     kbuild and source, and busybox-static: `apt-get download` + `dpkg -x`,
#     never installed on this machine;
#   - gpio-sim built out of tree (no Debian kernel enables it);
#   - a small initramfs whose /init (Tests/Rig/init) loads the modules, sets
#     up the simulated SLIC and runs a command in the host's root.
# Writes CACHE/rig.env (KERNEL=, INITRD=, KVER=) for Tests/Rig/run.py.
# Downloads and the module build are kept across runs (a stamp per kernel
# version); the initramfs is rebuilt every time (it takes a second).
#
# The CPU-heavy steps (unpacking the kernel source, the module build) take the
# machine's build lock, as Cross/build.sh does: do not run this under
# `flock /tmp/atad-swift-build.lock` yourself (it would wait for itself).
# RIG_LOCK=FILE uses another lock file, RIG_LOCK= none.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${RIG_CACHE:-$repo/.build-rig}"
lock="${RIG_LOCK-/tmp/atad-swift-build.lock}"
mkdir -p "$cache"

locked() { if [ -n "$lock" ]; then flock "$lock" "$@"; else "$@"; fi; }

say() { echo "rig-prepare: $*"; }

# The kernel that `linux-image-amd64` points at, and its Debian version: every
# package below is taken at exactly that version, since an out-of-tree module
# only loads into the kernel ABI it was built against.
kernel_abi() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-\(.*-amd64\)$/\1/p' | head -1; }
kver="$(kernel_abi)"
if [ -z "$kver" ]; then
  say "no linux-image-amd64 in the package lists: apt-get update"
  apt-get update -qq
  kver="$(kernel_abi)"
fi
[ -n "$kver" ] || { say "cannot find Debian's linux-image-amd64"; exit 1; }
version="$(apt-cache show --no-all-versions "linux-image-$kver" | sed -n 's/^Version: //p' | head -1)"
series="${kver%%.0-*}"                 # 6.1
common="linux-headers-${kver%-amd64}-common"
packages=("linux-image-$kver=$version" "linux-headers-$kver=$version" "$common=$version"
          "linux-kbuild-$series=$version" "linux-source-$series=$version" busybox-static)

dir="$cache/$kver-$version"
root="$dir/root"
headers="$root/usr/src/linux-headers-$kver"
module="$dir/gpio-sim"
# Bump the recipe number when the download or module build below changes.
stamp_inputs="recipe 1: ${packages[*]}"

if [ "$(cat "$dir/.prepared" 2>/dev/null)" != "$stamp_inputs" ]; then
  say "kernel $kver ($version): downloading and unpacking"
  rm -rf "$dir"
  mkdir -p "$dir/debs" "$root"
  (cd "$dir/debs" && apt-get download -q "${packages[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  for p in "${packages[@]}"; do
    name="${p%%=*}"
    ls "$dir/debs/${name}_"*.deb >/dev/null 2>&1 || { say "download of $name failed"; exit 1; }
  done
  for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$root"; done

  # The headers' Makefile includes the common part by its installed path.
  sed -i "s|^include /usr/src/|include $root/usr/src/|" "$headers/Makefile"

  say "building gpio-sim from linux-source-$series"
  mkdir -p "$dir/src" "$module"
  locked tar -xJf "$root/usr/src/linux-source-$series.tar.xz" -C "$dir/src" \
    "linux-source-$series/drivers/gpio/gpio-sim.c" "linux-source-$series/drivers/gpio/gpiolib.h" \
    "linux-source-$series/kernel/irq/irq_sim.c"
  src="$dir/src/linux-source-$series"
  cp "$src/drivers/gpio/gpio-sim.c" "$module/gpio-sim-main.c"
  cp "$src/drivers/gpio/gpiolib.h" "$src/kernel/irq/irq_sim.c" "$module/"
  # irq_sim is not built into this kernel (IRQ_SIM unset), so it goes into the
  # module; irq_to_desc() is not exported to modules in 6.1, and
  # generic_handle_irq() reaches the same handler through an exported call.
  sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$module/irq_sim.c"
  grep -q 'generic_handle_irq(irqnum);' "$module/irq_sim.c" || { say "irq_sim.c changed upstream: patch it by hand"; exit 1; }
  printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-main.o irq_sim.o\n' > "$module/Kbuild"
  locked make -s -C "$headers" M="$module" modules 2>&1 | grep -v 'Skipping BTF generation' || true
  [ -f "$module/gpio-sim.ko" ] || { say "gpio-sim did not build"; exit 1; }

  # Module dependencies of the kernel's own modules (no depmod on the host).
  "$root/bin/busybox" depmod -b "$root" "$kver"
  # The packages and the source archive are not needed again (365 MB).
  rm -rf "$dir/debs" "$root/usr/src/linux-source-$series.tar.xz"
  echo "$stamp_inputs" > "$dir/.prepared"
else
  say "kernel $kver ($version): cached in $dir"
fi

# The initramfs: busybox, /init, the modules the rig loads (with what they
# depend on) and gpio-sim.
say "initramfs"
stage="$dir/initramfs"
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,proc,sys,dev,host,results,tmp} "$stage/lib/modules/$kver/extra"
cp "$root/bin/busybox" "$stage/bin/busybox"
cp "$here/init" "$stage/init"
chmod 755 "$stage/init"
cp "$module/gpio-sim.ko" "$stage/lib/modules/$kver/extra/"
wanted="virtio_pci 9pnet_virtio 9p configfs snd-aloop"
needed=""
for name in $wanted; do
  pattern="/$(echo "$name" | sed 's/[-_]/[-_]/g')\.ko:"
  line="$(grep -E "$pattern" "$root/lib/modules/$kver/modules.dep")" || { say "module $name not in $kver"; exit 1; }
  needed="$needed ${line%%:*} ${line#*:}"
done
for path in $needed; do
  mkdir -p "$stage/lib/modules/$kver/$(dirname "$path")"
  cp "$root/lib/modules/$kver/$path" "$stage/lib/modules/$kver/$path"
done
cp "$root/lib/modules/$kver/modules.builtin" "$root/lib/modules/$kver/modules.order" "$stage/lib/modules/$kver/"
"$root/bin/busybox" depmod -b "$stage" "$kver"
(cd "$stage" && find . | "$root/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1 > "$dir/initrd.img.new")
mv "$dir/initrd.img.new" "$dir/initrd.img"

cat > "$cache/rig.env" <<EOF
KVER=$kver
KERNEL=$root/boot/vmlinuz-$kver
INITRD=$dir/initrd.img
EOF
say "ready: $(du -h "$dir/initrd.img" | cut -f1) initramfs, kernel $kver"
