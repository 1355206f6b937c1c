#!/usr/bin/env bash
# Assembles a Debian 12 target sysroot for cross-compiling atad:
#
#   bash Cross/sysroot.sh arm64|armhf      -> .build-cross/sysroot-ARCH/
#
# No multiarch install and no change to the host's apt or dpkg state: apt runs
# with a private configuration (its own sources list, package lists, cache and
# an empty dpkg status) whose native architecture is the target's, so
# `apt-get download` fetches the target's .debs, and each is unpacked with
# `dpkg -x`. Works on a fresh Debian 12 machine as root or not (needs network
# to the Debian mirror, plus apt, dpkg and debian-archive-keyring).
#
# Cached: a stamp in the sysroot records the package list, mirrors and this
# script's hash; when they match, nothing is done. FORCE=1 rebuilds.
# Mirrors can be overridden with DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR.
set -euo pipefail

ARCH="${1:-}"
case "$ARCH" in
  arm64) TRIPLE=aarch64-linux-gnu ;;
  armhf) TRIPLE=arm-linux-gnueabihf ;;
  *) echo "usage: $0 arm64|armhf" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/.build-cross"
SR="$OUT/sysroot-$ARCH"
APTDIR="$OUT/apt-$ARCH"
DEBS="$OUT/debs-$ARCH"

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

PACKAGES=(
  # C runtime and kernel headers; libgcc-12-dev gives crtbegin.o and libgcc.
  libc6 libc6-dev linux-libc-dev libgcc-12-dev libgcc-s1 libstdc++6
  # spandsp; its header includes <tiffio.h>, and libtiff6 pulls in the rest.
  libspandsp-dev libspandsp2 libtiff-dev libtiff6
  libjpeg62-turbo libwebp7 libzstd1 liblzma5 libjbig0 libdeflate0 liblerc4 zlib1g
  # GPIO (libgpiod v1), ALSA, OpenSSL, c-ares (DNS).
  libgpiod-dev libgpiod2
  libasound2-dev libasound2
  libssl-dev libssl3
  libc-ares-dev libc-ares2
)

STAMP="$SR/.atad-sysroot-stamp"
want_stamp="$(printf '%s\n' "$ARCH" "$MIRROR" "$SECURITY_MIRROR" "${PACKAGES[@]}" \
  "$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)" | sha256sum | cut -d' ' -f1)"
if [[ "${FORCE:-0}" != 1 && -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]]; then
  echo "sysroot-$ARCH: up to date ($SR)"
  exit 0
fi

for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "sysroot.sh: $tool not found (Debian/Ubuntu host needed)" >&2; exit 1; }
done
[[ -r "$KEYRING" ]] || { echo "sysroot.sh: $KEYRING missing: apt-get install debian-archive-keyring" >&2; exit 1; }

start=$(date +%s)

# --- a private apt whose native architecture is the target's -----------------
mkdir -p "$APTDIR"/{lists/partial,archives/partial,sources.d,prefs.d} "$DEBS"
: > "$APTDIR/status"
cat > "$APTDIR/sources.list" <<EOF
deb [arch=$ARCH signed-by=$KEYRING] $MIRROR bookworm main
deb [arch=$ARCH signed-by=$KEYRING] $MIRROR bookworm-updates main
deb [arch=$ARCH signed-by=$KEYRING] $SECURITY_MIRROR bookworm-security main
EOF
APT_OPTS=(
  -o "APT::Architecture=$ARCH"
  -o "APT::Architectures=$ARCH"
  -o "Dir::Etc::SourceList=$APTDIR/sources.list"
  -o "Dir::Etc::SourceParts=$APTDIR/sources.d"
  -o "Dir::Etc::Preferences=$APTDIR/preferences"
  -o "Dir::Etc::PreferencesParts=$APTDIR/prefs.d"
  -o "Dir::State=$APTDIR"
  -o "Dir::State::Lists=$APTDIR/lists"
  -o "Dir::State::status=$APTDIR/status"
  -o "Dir::Cache=$APTDIR"
  -o "Dir::Cache::archives=$APTDIR/archives"
  -o "Dir::Cache::pkgcache="
  -o "Dir::Cache::srcpkgcache="
  -o "APT::Sandbox::User=root"
  -o "Acquire::Languages=none"
  -o "Acquire::By-Hash=force"
  -o "Debug::NoLocking=1"
)
if [[ "$(id -u)" != 0 ]]; then APT_OPTS+=(-o "APT::Sandbox::User="); fi

echo "sysroot-$ARCH: apt-get update (private lists in $APTDIR)"
# A mirror caught mid-sync answers "File has unexpected size": retry a few
# times. If only the security suite stays broken, go on without it (a build
# sysroot needs headers and link stubs, whose ABI is fixed within a release).
for try in 1 2 3; do
  if apt-get "${APT_OPTS[@]}" -q update >"$APTDIR/update.log" 2>&1 \
     && ! grep -q '^E:' "$APTDIR/update.log"; then
    break
  fi
  if [[ $try == 3 ]]; then
    if grep '^E:' "$APTDIR/update.log" | grep -vq -- '-security\|Some index files failed'; then
      cat "$APTDIR/update.log" >&2; exit 1
    fi
    echo "sysroot-$ARCH: warning: $SECURITY_MIRROR index unusable, using bookworm + bookworm-updates only" >&2
    break
  fi
  echo "sysroot-$ARCH: apt-get update failed (try $try), retrying in $((try * 5))s" >&2
  sleep $((try * 5))
done

echo "sysroot-$ARCH: downloading ${#PACKAGES[@]} packages"
rm -f "$DEBS"/*.deb
(cd "$DEBS" && apt-get "${APT_OPTS[@]}" -q download "${PACKAGES[@]/%/:$ARCH}" >"$APTDIR/download.log" 2>&1) || {
  cat "$APTDIR/download.log" >&2; exit 1; }

# --- unpack ------------------------------------------------------------------
rm -rf "$SR"
mkdir -p "$SR"
for deb in "$DEBS"/*.deb; do
  dpkg-deb -x "$deb" "$SR"
done
rm -rf "$SR/usr/share/doc" "$SR/usr/share/man" "$SR/usr/share/lintian" "$SR/usr/share/locale"

# Absolute symlinks (e.g. usr/lib/TRIPLE/libm.so -> /lib/TRIPLE/libm.so.6, or
# gcc's libgcc_s.so) would point into the host: make them relative.
while IFS= read -r -d '' link; do
  target="$(readlink "$link")"
  [[ "$target" == /* ]] || continue
  rel="$(realpath -m --relative-to="$(dirname "$link")" "$SR$target")"
  ln -sfn "$rel" "$link"
done < <(find "$SR" -type l -print0)

# Every library's DT_NEEDED must be in the sysroot, or the binary will not run.
if command -v readelf >/dev/null; then
  missing=0
  while IFS= read -r lib; do
    for need in $(readelf -d "$lib" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      if [[ ! -e "$SR/lib/$TRIPLE/$need" && ! -e "$SR/usr/lib/$TRIPLE/$need" && ! -e "$SR/lib/$need" ]]; then
        echo "sysroot-$ARCH: warning: ${lib#"$SR"/} needs $need, not in the sysroot" >&2
        missing=1
      fi
    done
  done < <(find "$SR/lib/$TRIPLE" "$SR/usr/lib/$TRIPLE" -maxdepth 1 -name '*.so.*' -type f)
  [[ $missing == 0 ]] || echo "sysroot-$ARCH: add the missing packages to PACKAGES in $0" >&2
fi

echo "$want_stamp" > "$STAMP"
echo "sysroot-$ARCH: done in $(( $(date +%s) - start ))s ($(du -sh "$SR" | cut -f1), $(ls "$DEBS" | wc -l) packages) -> $SR"
