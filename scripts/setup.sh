#!/usr/bin/env bash
# Installs what is missing for `npm start` and `npm test`, then builds. Idempotent: a second
# run only checks and finishes in seconds. System packages need root (apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

# libjemalloc2: the daemon's allocator (runtime/env.ts SERVICE_ENV). build-essential and python3:
# node-gyp builds the GStreamer binding and the compiled pixel loops (runtime/native).
APT_PACKAGES=(
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-tools pkg-config libjemalloc2 build-essential python3
)
# The test suite also drives a real browser, checks the systemd units, listens on a
# notify socket with python3 (installed above) and has a real Prometheus scrape the daemon.
if [ "${1:-}" = "--test" ]; then
  APT_PACKAGES+=(chromium systemd prometheus)
fi
# npm run test:package: package tools, Debian's checker and a maker of throwaway Debian roots.
if [ "${1:-}" = "--package" ]; then
  APT_PACKAGES+=(dpkg-dev binutils lintian mmdebstrap)
fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing system packages: ${missing[*]}" >&2
    echo "setup: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm dependencies; the ONNX Runtime CUDA/TensorRT download is skipped (see models/README.md).
# The setting lives here, not in .npmrc: npm warns about any key it does not know there, on
# every npm command (npm start included). Fixes to dependencies (scripts/patches, applied by
# the postinstall script) count as a change of the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
  [ -n "$(find scripts/patches -newer node_modules/.package-lock.json)" ]; then
  echo "setup: installing npm dependencies" >&2
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi

# The compiled pixel loops (runtime/native), rebuilt when missing or older than their sources.
kernels=runtime/native/build/Release/kernels.node
if [ ! -f "$kernels" ] || [ -n "$(find runtime/native -maxdepth 1 -type f ! -name '*.ts' -newer "$kernels")" ]; then
  echo "setup: building the compiled pixel loops" >&2
  npm run --silent native >/dev/null
fi

node_modules/.bin/tsc -p .

if ! ls models/{ref-classifier,ref-segmenter,gain-resnet50,ca-unet}/manifest.json >/dev/null 2>&1; then
  echo "setup: building the model bundles" >&2
  node dist/runtime/cli.js models build
fi
# Reference bundles older than the code's (before their blood rule, 1.1.0) are rebuilt: seconds.
if ! node -e 'const m = require("./models/ref-classifier/manifest.json");
  import("./dist/runtime/models/reference/build-reference.js").then((r) => process.exit(m.version === r.REFERENCE_VERSION ? 0 : 1));'; then
  echo "setup: rebuilding the reference models" >&2
  node dist/runtime/cli.js models build --only reference
fi
# A demo rendered before the demo schedule had its heavy bleeding is rendered again.
if [ ! -f var/feeds/demo.annotations.json ] || ! grep -q '"kind":"bleeding"' var/feeds/demo.annotations.json; then
  echo "setup: rendering the demo feed" >&2
  node dist/runtime/cli.js feed make --demo --out var/feeds/demo.mkv --size 640x480 --fps 15 --seconds 24 --seed 1
fi
