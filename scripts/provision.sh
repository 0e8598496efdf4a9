#!/usr/bin/env bash
# Provisions or updates a Lumen Edge appliance from this built source tree (after `npm start`
# or `bash scripts/setup.sh`). Idempotent. Each release goes to PREFIX/releases/<id>; it is
# verified (bundles: sha256 and signature; config; doctor; selftest) before `current` is switched
# to it, so a failed step leaves the running install untouched: that is the rollback.
#
#   scripts/provision.sh [--dry-run] [--root DIR] [--site FILE] [--models DIR] [--key PUB.pem]
#                        [--no-apt] [--no-systemctl] [--release-id ID]
#
#   --root DIR      install under DIR instead of / (a throwaway root for tests and images)
#   --site FILE     KEY=VALUE lines for the config template (CAPTURE_PARAMS={ device: /dev/video1 }, …)
#   --models DIR    bundles to install (default: this tree's models/)
#   --key PUB.pem   trusted signing key: bundles must carry a valid signature from it
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"

DRY=0 ROOT="" SITE="" MODELS="$SRC/models" KEY="" APT=1 SYSTEMCTL=1 RELEASE_ID=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --root) ROOT="${2%/}"; shift ;;
    --site) SITE="$2"; shift ;;
    --models) MODELS="$2"; shift ;;
    --key) KEY="$2"; shift ;;
    --no-apt) APT=0 ;;
    --no-systemctl) SYSTEMCTL=0 ;;
    --release-id) RELEASE_ID="$2"; shift ;;
    *) echo "provision: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

PREFIX="$ROOT/opt/lumen-edge"
ETC="$ROOT/etc/lumen"
UNITS="$ROOT/etc/systemd/system"
SYSUSERS="$ROOT/etc/sysusers.d"
STATE="$ROOT/var/lib/lumen"
CACHE="$ROOT/var/cache/lumen"
VERSION="$(node -p "require('$SRC/package.json').version")"
RELEASE_ID="${RELEASE_ID:-$VERSION-$(date -u +%Y%m%dT%H%M%SZ)}"
REL="$PREFIX/releases/$RELEASE_ID"
STEP=""

step() { STEP="$1"; echo "provision: [$STEP]" >&2; }
run() { if [ $DRY -eq 1 ]; then echo "  would run: $*"; else "$@"; fi; }
# A release this run created and did not switch to is removed on failure: left behind, a half
# release would count as one of the two that "prune" keeps, and push out the previous good one.
REL_NEW=0
[ -e "$REL" ] || REL_NEW=1
trap 'rc=$?; if [ $rc -ne 0 ]; then [ $DRY -eq 0 ] && [ $REL_NEW -eq 1 ] && [ "$(readlink "$PREFIX/current" 2>/dev/null)" != "releases/$RELEASE_ID" ] && rm -rf "$REL"; echo "provision: FAILED at step [$STEP] (exit $rc); the previous install is untouched${CURRENT_BEFORE:+ ($CURRENT_BEFORE)}" >&2; fi' EXIT
CURRENT_BEFORE="$(readlink "$PREFIX/current" 2>/dev/null || true)"

step "system packages"
if [ $APT -eq 1 ]; then
  run bash "$SRC/scripts/setup.sh"
else
  echo "  skipped (--no-apt)"
fi

step "runtime files"
[ -f "$SRC/dist/runtime/cli.js" ] || { echo "  $SRC is not built: run npm start or scripts/setup.sh first" >&2; exit 1; }
run mkdir -p "$REL" "$ETC" "$STATE" "$CACHE"
for part in package.json package-lock.json dist pipelines systemd scripts runtime/view/public README.md docs var/feeds; do
  [ "$(dirname "$part")" = . ] || run mkdir -p "$REL/$(dirname "$part")"
  run cp -a "$SRC/$part" "$REL/$part"
done
# Hard links when on the same filesystem: a release costs no extra space for node_modules.
run cp -al "$SRC/node_modules" "$REL/node_modules" 2>/dev/null || run cp -a "$SRC/node_modules" "$REL/node_modules"

step "model bundles"
run mkdir -p "$REL/models"
for manifest in "$MODELS"/*/manifest.json; do
  run cp -a "$(dirname "$manifest")" "$REL/models/"
done
if [ $DRY -eq 0 ]; then
  verify=(node "$REL/dist/runtime/cli.js" models verify "$REL"/models/*/)
  [ -n "$KEY" ] && verify+=(--key "$KEY")
  "${verify[@]}"
else
  echo "  would verify every bundle (sha256${KEY:+ and signature from $KEY})"
fi

step "config"
declare -A V=(
  [CAPTURE_PIPELINE]=hdmi-v4l2 [CAPTURE_PARAMS]='{ device: /dev/video0 }' [BIND_ADDRESS]=0.0.0.0
  [CLASSIFIER]=gain-resnet50 [SEGMENTER]=ca-unet [REQUIRE_SIGNATURE]=false [TRUSTED_KEYS]=""
)
if [ -n "$SITE" ]; then
  while IFS='=' read -r k v; do
    [[ -z "$k" || "$k" == \#* ]] && continue
    [[ -v "V[$k]" ]] || { echo "  $SITE: unknown key $k (known: ${!V[*]})" >&2; exit 1; }
    V[$k]="$v"
  done < "$SITE"
fi
if [ -n "$KEY" ]; then
  run cp "$KEY" "$ETC/trusted-bundle-key.pub.pem"
  V[REQUIRE_SIGNATURE]=true V[TRUSTED_KEYS]="$ETC/trusted-bundle-key.pub.pem"
fi
V[MODELS_DIR]="$PREFIX/current/models" V[STATE_DIR]="$STATE" V[CACHE_DIR]="$CACHE"
config="$(cat "$SRC/scripts/config.template.yaml")"
for k in "${!V[@]}"; do config="${config//@$k@/${V[$k]}}"; done
# The new release is checked against its own models before `current` points at it.
check_config="${config//$PREFIX\/current\/models/$REL/models}"
if [ $DRY -eq 1 ]; then
  echo "  would write $ETC/config.yaml:"; sed 's/^/    /' <<< "$config"
else
  printf '%s\n' "$check_config" > "$ETC/config.yaml.new"
fi

step "doctor"
# Only what must hold before the switch: config, GStreamer elements, bundles, providers.
if [ $DRY -eq 0 ]; then
  node "$REL/dist/runtime/cli.js" doctor --config "$ETC/config.yaml.new" --json > "$REL/doctor.json" || true
  node -e '
    const r = require(process.argv[1]);
    const must = r.checks.filter((c) => c.verdict === "FAIL" && /^(config|bundle|providers)/.test(c.name));
    for (const c of r.checks) console.error(`  ${c.verdict.padEnd(4)} ${c.name}: ${c.detail}`);
    process.exit(must.length ? 1 : 0);' "$REL/doctor.json"
else
  echo "  would run lumen doctor on the new release"
fi

step "selftest"
if [ $DRY -eq 0 ]; then
  # The selftest feeds the demo through the site's models: it proves they run here. Pre-builds
  # the TensorRT engines into the cache as a side effect, so the first start is fast.
  rc=0
  node "$REL/dist/runtime/cli.js" selftest --config "$ETC/config.yaml.new" --feed "$REL/var/feeds/demo.mkv" > "$REL/selftest.txt" || rc=$?
  sed 's/^/  /' "$REL/selftest.txt" >&2
  # Exit 2: the models could not run at all. Exit 1: they ran but missed the demo's lesions,
  # which only the reference models are built to find.
  if [ $rc -eq 2 ] || { [ $rc -ne 0 ] && [ "${V[CLASSIFIER]}" = ref-classifier ]; }; then exit 1; fi
  [ $rc -eq 0 ] || echo "  (site models are not trained on the synthetic demo: only their running is required)" >&2
else
  echo "  would run lumen selftest on the new release"
fi

step "systemd units"
run mkdir -p "$UNITS" "$SYSUSERS"
run install -m 0644 "$REL/systemd/lumen-edge.service" "$UNITS/lumen-edge.service"
run install -m 0644 "$REL/systemd/lumen.sysusers.conf" "$SYSUSERS/lumen.conf"

step "switch"
if [ $DRY -eq 0 ]; then
  printf '%s\n' "$config" > "$ETC/config.yaml.new"
  mv "$ETC/config.yaml.new" "$ETC/config.yaml"
  ln -sfn "releases/$RELEASE_ID" "$PREFIX/current.new" && mv -T "$PREFIX/current.new" "$PREFIX/current"
else
  echo "  would point $PREFIX/current at releases/$RELEASE_ID"
fi
if [ $SYSTEMCTL -eq 1 ]; then
  run systemd-sysusers
  run systemctl daemon-reload
  run systemctl enable lumen-edge
  run systemctl restart lumen-edge
fi

step "prune"
# Keep the running release and the one before it.
if [ $DRY -eq 0 ]; then
  ls -1dt "$PREFIX"/releases/*/ | tail -n +3 | while read -r old; do rm -rf "$old"; done
fi
echo "provision: OK, current = releases/$RELEASE_ID${CURRENT_BEFORE:+ (previous: $CURRENT_BEFORE)}" >&2
