#!/usr/bin/env bash
# Linker wrapper for the Embedded Swift cross build (named by the toolset's
# "linker.path"). For a -none- triple, swiftc runs clang's bare-metal driver,
# which calls this script with a bare-metal ld line:
#   -Bstatic -m aarch64elf -EL crt0.o -L<host/baremetal dirs> OBJECTS -lfoo
#   --gc-sections --defsym main=atad_main --start-group libclang_rt.builtins.a -lc --end-group -o OUT
# We drop the bare-metal parts and relink as a Linux executable against the
# target sysroot:
#   clang --target=aarch64-linux-gnu --sysroot=SR -fuse-ld=lld OBJECTS -lfoo
#         -Wl,--gc-sections -Wl,--defsym,main=atad_main unicode-data-stubs.o -lm
# The toolset passes three marker options, removed here:
#   --atad-target=GNU_TRIPLE --atad-sysroot=SR --atad-swift-triple=SWIFT_TRIPLE
#   --atad-toolchain=DIR (the Swift toolchain's usr/, for clang and lld)
#   --atad-rev=HASH (ignored; changes when this script or the sysroot change)
# ATAD_LINK_VERBOSE=1 prints the final command.
set -euo pipefail


# Expand response files (@file) first, so that their contents get filtered too.
args=()
for a in "$@"; do
  if [[ "$a" == @* && -f "${a#@}" ]]; then
    while IFS= read -r -d '' x; do args+=("$x"); done < <(xargs printf '%s\0' < "${a#@}")
  else
    args+=("$a")
  fi
done

target="" sysroot="" swift_triple="" toolchain="" out=""
inputs=()      # objects, archives, -l, -L, in order
ldflags=()     # other linker options, passed through -Xlinker
i=0
n=${#args[@]}
while (( i < n )); do
  a="${args[i]}"
  case "$a" in
    --atad-target=*) target="${a#*=}" ;;
    --atad-sysroot=*) sysroot="${a#*=}" ;;
    --atad-swift-triple=*) swift_triple="${a#*=}" ;;
    --atad-toolchain=*) toolchain="${a#*=}" ;;
    --atad-rev=*) ;;   # only there to make SwiftPM relink when link.sh or the sysroot change
    # bare-metal leftovers
    -Bstatic|-Bdynamic|-EL|-EB|-static|--start-group|--end-group|-lc) ;;
    -m) i=$((i + 1)) ;;
    crt0.o|*/crt0.o|*libclang_rt.builtins*.a|*clang_rt.crtbegin*|*clang_rt.crtend*) ;;
    -o) i=$((i + 1)); out="${args[i]}" ;;
    -L) i=$((i + 1)); d="${args[i]}"
        [[ "$d" == *x86_64-linux-gnu* || "$d" == */clang-runtimes/* || "$d" == */lib/clang/* || "$d" == */lib/swift ]] || inputs+=("-L$d") ;;
    -L*) d="${a#-L}"
        [[ "$d" == *x86_64-linux-gnu* || "$d" == */clang-runtimes/* || "$d" == */lib/clang/* || "$d" == */lib/swift ]] || inputs+=("$a") ;;
    -l) i=$((i + 1)); inputs+=("-l${args[i]}") ;;
    -l*) inputs+=("$a") ;;
    # ld options that take their value as the next argument
    --defsym|-T|-z|-rpath|--version-script|-u|-e|--entry|-soname|-Map|-y|--undefined|--wrap|--dynamic-linker|-O)
        ldflags+=(-Xlinker "$a" -Xlinker "${args[i + 1]}"); i=$((i + 1)) ;;
    -*) ldflags+=(-Xlinker "$a") ;;
    *) inputs+=("$a") ;;
  esac
  i=$((i + 1))
done

if [[ -z "$target" || -z "$sysroot" || -z "$out" ]]; then
  echo "link.sh: missing --atad-target, --atad-sysroot or -o (is the toolset from Cross/toolset.sh?)" >&2
  exit 2
fi

if [[ -z "$toolchain" ]]; then
  toolchain="$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")"
fi
CLANG="${ATAD_CLANG:-$toolchain/bin/clang}"

# The standard library's Unicode tables are answered by a small stub
# (see the file), compiled to bitcode for the target so LTO folds it in.
stubs="$(dirname "$out")/unicode-data-stubs.o"
"$CLANG" --target="$target" --sysroot="$sysroot" -flto=full -Os -fPIC -c "$(dirname "$0")/unicode-data-stubs.c" -o "$stubs"
extra=("$stubs")

cmd=("$CLANG" "--target=$target" "--sysroot=$sysroot" -fuse-ld=lld -pie
     -Wl,--as-needed -Wl,-z,relro -Wl,-z,now -Wl,--build-id=sha1
     -Wl,--icf=all -Wl,-mllvm=-enable-machine-outliner=always -Wl,-z,pack-relative-relocs
     "${inputs[@]}" "${ldflags[@]}" "${extra[@]}" -lm -o "$out")
[[ "${ATAD_LINK_VERBOSE:-0}" == 1 ]] && echo "link.sh: ${cmd[*]}" >&2
exec "${cmd[@]}"
