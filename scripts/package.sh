#!/usr/bin/env bash
# Builds lumen-edge_<version>-<revision>_<arch>.deb with dpkg-deb from a clean build of this tree:
# the compiled runtime (a fresh tsc run, not dist/), the production npm modules with their native
# addons as built here (so: build on each target architecture), pipelines, the reference bundles,
# the demo feed, the systemd unit, sysusers/tmpfiles entries, /usr/bin/lumen and
# /etc/lumen/config.yaml (a conffile). Needs a built tree: `npm start` or `bash scripts/setup.sh`.
#
#   scripts/package.sh [--out DIR] [--revision N] [--compress xz|gzip|zstd]
#
#   --out DIR        where the .deb goes (default dist/packages)
#   --revision N     Debian revision (default 1): a rebuild of the same version is -2, -3, …
#   --compress ALGO  dpkg-deb compressor (default xz, as Debian ships)
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$SRC/dist/packages" REVISION=1 COMPRESS=xz
# Whoever ships the package puts their name here (Debian's Maintainer field and changelog).
MAINTAINER="${LUMEN_DEB_MAINTAINER:-Lumen Edge maintainers <packaging@lumen-edge.example.com>}"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift ;;
    --revision) REVISION="$2"; shift ;;
    --compress) COMPRESS="$2"; shift ;;
    *) echo "package: USAGE: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[[ "$REVISION" =~ ^[0-9][0-9a-z.+~]*$ ]] || { echo "package: USAGE: --revision $REVISION is not a Debian revision" >&2; exit 2; }

DEB_ARCH="$(dpkg --print-architecture)"
NODE_ARCH="$(node -p process.arch)"
VERSION="$(node -p "require('$SRC/package.json').version")-$REVISION"

# --- What a build needs: refuse with the whole list, not the first miss. ----------------------
missing=()
need() { [ -e "$SRC/$1" ] || missing+=("$1 ($2)"); }
need node_modules/.package-lock.json "npm dependencies"
need node_modules/.bin/tsc "TypeScript compiler"
need node_modules/gstreamer-superficial/build/Release/gstreamer-superficial.node "GStreamer addon"
need node_modules/unix-dgram/build/Release/unix_dgram.node "sd_notify addon"
need runtime/native/build/Release/kernels.node "compiled pixel loops (npm run native)"
need "node_modules/zeromq/build/linux/$NODE_ARCH" "ZeroMQ addon for $NODE_ARCH"
need "node_modules/onnxruntime-node/bin/napi-v6/linux/$NODE_ARCH" "ONNX Runtime binding for $NODE_ARCH"
need models/ref-classifier/manifest.json "reference classifier bundle"
need models/ref-segmenter/manifest.json "reference segmenter bundle"
need var/feeds/demo.mkv "demo feed"
need var/feeds/demo.annotations.json "demo feed annotations"
for tool in dpkg-deb gzip; do command -v "$tool" >/dev/null || missing+=("$tool (apt-get install dpkg)"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "package: PACKAGE_UNBUILT: this tree is not built; missing:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  echo "package: run npm start (or bash scripts/setup.sh) first" >&2
  exit 2
fi

STAGE="$(mktemp -d "${TMPDIR:-/tmp}/lumen-deb.XXXXXX")"
trap '[ -n "${KEEP_STAGE:-}" ] || rm -rf "$STAGE"' EXIT
P="$STAGE/root/usr/lib/lumen-edge"
mkdir -p "$P" "$STAGE/root/DEBIAN"
echo "package: lumen-edge $VERSION ($DEB_ARCH)" >&2

# --- A clean compile of the runtime, apart from dist/. -------------------------------------------
"$SRC/node_modules/.bin/tsc" -p "$SRC" --outDir "$STAGE/tsc" --tsBuildInfoFile "$STAGE/tsc/.tsbuildinfo" --declaration false --sourceMap false
# The bill of materials of what is packed: the production dependencies, the system packages, the bundles.
node "$STAGE/tsc/scripts/sbom.js" --project "$SRC" --models "$SRC/models" --out "$STAGE/sbom.cdx.json" >&2
mkdir -p "$P/dist" && mv "$STAGE/tsc/runtime" "$P/dist/runtime"
cp "$SRC/package.json" "$P/"
cp -r "$SRC/pipelines" "$P/"
mkdir -p "$P/runtime/view" "$P/models" "$P/var/feeds"
cp -r "$SRC/runtime/view/public" "$P/runtime/view/"
# The compiled pixel loops, where runtime/native/kernels.ts looks for them (stripped below).
install -D "$SRC/runtime/native/build/Release/kernels.node" "$P/runtime/native/build/Release/kernels.node"
for id in ref-classifier ref-segmenter; do cp -r "$SRC/models/$id" "$P/models/"; done
cp "$SRC/var/feeds/demo.mkv" "$SRC/var/feeds/demo.annotations.json" "$P/var/feeds/"

# --- Production npm modules, as installed here (native addons built for this machine). ----------
mkdir -p "$P/node_modules"
(cd "$SRC" && npm ls --omit=dev --all --parseable 2>/dev/null) | sed -n "s|^$SRC/node_modules/||p" | grep -v '/node_modules/' |
  while read -r mod; do
    mkdir -p "$P/node_modules/$(dirname "$mod")"
    # Copies, not hard links: the stage's permissions are normalised below.
    cp -a "$SRC/node_modules/$mod" "$P/node_modules/$mod"
  done
nm="$P/node_modules"
# Binaries for other systems and architectures, and native build leftovers.
find "$nm/onnxruntime-node/bin/napi-v6" "$nm/zeromq/build" -mindepth 1 -maxdepth 1 -type d ! -name linux -exec rm -rf {} +
find "$nm/onnxruntime-node/bin/napi-v6/linux" "$nm/zeromq/build/linux" -mindepth 1 -maxdepth 1 -type d ! -name "$NODE_ARCH" -exec rm -rf {} +
for addon in gstreamer-superficial unix-dgram; do
  find "$nm/$addon/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
  rm -rf "$nm/$addon/build/Release/obj.target" "$nm/$addon/build/Release/.deps"
done
# zeromq ships prebuilt addons per libc and Node ABI: keep the one Node loads here.
zmq_addon="$(cd "$P" && node -e "require('zeromq'); const m = require('fs').readFileSync('/proc/self/maps', 'utf8'); process.stdout.write(m.split('\\n').map((l) => l.split(/\\s+/).pop()).find((f) => f && f.endsWith('addon.node')) ?? '')")"
[ -n "$zmq_addon" ] || { echo "package: cannot tell which zeromq addon loads here" >&2; exit 1; }
find "$nm/zeromq/build/linux/$NODE_ARCH/node" -mindepth 1 -maxdepth 1 -type d ! -path "$(dirname "$zmq_addon")" -exec rm -rf {} +
rm -rf "$nm/zeromq/src" "$nm/zeromq/script" "$nm/zeromq/vcpkg.json" "$nm/zeromq/CMakeLists.txt"
# Development leftovers Debian's policy keeps out of a binary package.
find "$nm" \( -name '.package-lock.json' -o -name '.eslintrc*' -o -name '.npmignore' -o -name '.gitattributes' -o -name '.gitignore' -o -name '.travis.yml' -o -name '.editorconfig' \) -delete
rm -rf "$nm/pino/index.html" "$nm/pino/docs"
# protobufjs's pbjs/pbts command-line tools (and their jsdoc/underscore) are not used at run time.
rm -rf "$nm/protobufjs/cli"
# Modes by content, as Debian wants them: scripts (#!) 0755, everything else (shared objects too)
# 0644, directories 0755. Native addons are stripped of debug symbols.
chmod -R u+rwX,go+rX,go-w "$STAGE/root"
node -e '
  const fs = require("fs"), path = require("path");
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (e.isFile()) visit(p); } };
  const visit = (f) => {
    const fd = fs.openSync(f, "r"), head = Buffer.alloc(4), n = fs.readSync(fd, head, 0, 4, 0); fs.closeSync(fd);
    const elf = n === 4 && head.toString("latin1") === "\x7fELF", script = n >= 2 && head.toString("latin1", 0, 2) === "#!";
    fs.chmodSync(f, script ? 0o755 : 0o644);
    if (elf && f.endsWith(".node")) console.log(f);
  };
  walk(process.argv[1]);' "$STAGE/root" | xargs -r strip --strip-unneeded --remove-section=.comment --remove-section=.note

# --- System integration. -------------------------------------------------------------------------
D="$SRC/packaging/debian"
install -D -m 0755 "$D/lumen" "$STAGE/root/usr/bin/lumen"
install -D -m 0644 "$SRC/systemd/lumen-edge.service" "$STAGE/root/lib/systemd/system/lumen-edge.service"
install -D -m 0644 "$SRC/systemd/lumen.sysusers.conf" "$STAGE/root/usr/lib/sysusers.d/lumen.conf"
install -D -m 0644 "$D/tmpfiles.conf" "$STAGE/root/usr/lib/tmpfiles.d/lumen.conf"
install -D -m 0644 "$D/config.yaml" "$STAGE/root/etc/lumen/config.yaml"
install -D -m 0644 "$D/copyright" "$STAGE/root/usr/share/doc/lumen-edge/copyright"
install -D -m 0644 "$STAGE/sbom.cdx.json" "$STAGE/root/usr/share/doc/lumen-edge/sbom.cdx.json"
install -D -m 0644 "$D/lintian-overrides" "$STAGE/root/usr/share/lintian/overrides/lumen-edge"
changelog="$STAGE/root/usr/share/doc/lumen-edge/changelog.Debian"
{
  echo "lumen-edge ($VERSION) unstable; urgency=medium"; echo
  echo "  * Built from $(cd "$SRC" && git describe --always --dirty 2>/dev/null || echo 'a source tree')."; echo
  echo " -- $MAINTAINER  $(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")"
} > "$changelog"
gzip -9n "$changelog"

for s in postinst prerm postrm; do install -m 0755 "$D/$s" "$STAGE/root/DEBIAN/$s"; done
echo /etc/lumen/config.yaml > "$STAGE/root/DEBIAN/conffiles"

# Depends: the shared libraries the native addons link (dpkg-shlibdeps, libraries shipped inside
# node_modules excluded), the GStreamer plugins the pipelines use, the allocator the unit
# preloads, and a Node.js the engines field accepts (Debian 12's own nodejs is 18: see
# docs/fleet.md for where a site gets 20).
shlibs="$(bash "$SRC/scripts/package-shlibdeps.sh" "$STAGE/root")"
node_range="$(node -p "require('$SRC/package.json').engines.node" | sed -n 's/^>=\s*\([0-9.]*\)$/\1/p')"
[ -n "$node_range" ] || { echo "package: engines.node must be of the form >=N" >&2; exit 2; }
depends="$shlibs, gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, libjemalloc2, nodejs (>= $node_range), systemd"
size="$(du -sk --exclude=DEBIAN "$STAGE/root" | cut -f1)"
sed -e "s|@VERSION@|$VERSION|" -e "s|@MAINTAINER@|$MAINTAINER|" -e "s|@ARCH@|$DEB_ARCH|" -e "s|@INSTALLED_SIZE@|$size|" -e "s|@DEPENDS@|$depends|" "$D/control.in" > "$STAGE/root/DEBIAN/control"
(cd "$STAGE/root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$STAGE/root/DEBIAN/md5sums"

mkdir -p "$OUT"
deb="$OUT/lumen-edge_${VERSION}_${DEB_ARCH}.deb"
dpkg-deb --root-owner-group -Z"$COMPRESS" --build "$STAGE/root" "$deb" >/dev/null
echo "$deb"
