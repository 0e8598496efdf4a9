#!/usr/bin/env bash
# Prints the Depends entries for the shared libraries that the ELF files under ROOT link, found
# with dpkg-shlibdeps. Libraries shipped inside the package itself (ONNX Runtime, libvips in
# node_modules) are resolved there and need no dependency.
#   scripts/package-shlibdeps.sh ROOT
set -euo pipefail
ROOT="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debian"
printf 'Source: lumen-edge\n\nPackage: lumen-edge\nArchitecture: any\n' > "$work/debian/control"
mapfile -t elves < <(find "$ROOT/usr/lib/lumen-edge" -type f \( -name '*.node' -o -name '*.so' -o -name '*.so.*' \) -exec sh -c 'head -c4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
# Folders of the libraries the package ships, so that their users resolve to them.
mapfile -t libdirs < <(printf '%s\n' "${elves[@]}" | xargs -n1 dirname | sort -u)
out="$(cd "$work" && dpkg-shlibdeps -O --ignore-missing-info "${libdirs[@]/#/-l}" "${elves[@]/#/-e}" 2>"$work/err")" || { cat "$work/err" >&2; exit 1; }
sed -n 's/^shlibs:Depends=//p' <<< "$out"
