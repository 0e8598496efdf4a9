#!/usr/bin/env bash
# Provisions or updates a Lumen Edge appliance with the lumen-edge Debian package. Idempotent.
# Everything that can fail is checked on the new version *before* it is installed (bundles:
# sha256 and signature; the site config; doctor; selftest, which also pre-builds TensorRT
# engines); then dpkg installs it and the daemon restarts. If the new daemon does not come up,
# the previous package, config and models are put back. A failed step names itself.
#
#   scripts/provision.sh [--deb FILE] [--root DIR] [--site FILE] [--models DIR] [--key PUB.pem]
#                        [--no-systemctl] [--dry-run]
#
#   --deb FILE      the package to install (default: build one from this tree with scripts/package.sh)
#   --root DIR      install into the Debian root DIR (chroot) instead of / (images, tests)
#   --site FILE     KEY=VALUE lines for the config template (CAPTURE_PARAMS={ device: /dev/video1 }, …;
#                   CURVE=false INSECURE=true publish unencrypted on purpose: docs/security.md)
#   --models DIR    bundles to install into /var/lib/lumen-models (default: the package's reference bundles)
#   --key PUB.pem   trusted signing key: bundles must carry a valid signature from it
#   --no-systemctl  do not wait for the daemon to take over (no systemd: image builds, chroots)
#
# LUMEN_TAKEOVER_TIMEOUT_S: how long the new daemon has to become active (default 120 s).
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"

DRY=0 ROOT="" SITE="" MODELS="" KEY="" SYSTEMCTL=1 DEB=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --deb) DEB="$2"; shift ;;
    --root) ROOT="${2%/}"; shift ;;
    --site) SITE="$2"; shift ;;
    --models) MODELS="$2"; shift ;;
    --key) KEY="$2"; shift ;;
    --no-systemctl) SYSTEMCTL=0 ;;
    *) echo "provision: USAGE: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

APP=/usr/lib/lumen-edge
ETC="$ROOT/etc/lumen"
SITE_MODELS=/var/lib/lumen-models
KEEP=/var/cache/lumen-edge-releases
STEP=""
WORK="$(mktemp -d "${TMPDIR:-/tmp}/lumen-provision.XXXXXX")"
step() { STEP="$1"; echo "provision: [$STEP]" >&2; }
# Runs a command on the target: chrooted into --root (own mount namespace, /proc and /dev), or here.
# In the root the environment is a clean one: this shell's (NODE_OPTIONS, say) names host paths,
# and the maintainer scripts run node.
on_target() {
  if [ -z "$ROOT" ]; then "$@"; return; fi
  unshare --mount --propagation private --fork /bin/sh -c \
    'r="$1"; shift; mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" && exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' _ "$ROOT" "$@"
}
trap 'rc=$?; rm -rf "$WORK"; if [ $rc -ne 0 ]; then echo "provision: FAILED at step [$STEP] (exit $rc)${PREVIOUS:+; lumen-edge $PREVIOUS stays installed}" >&2; fi' EXIT
PREVIOUS="$(on_target dpkg-query -W -f='${db:Status-Status} ${Version}' lumen-edge 2>/dev/null | sed -n 's/^installed //p' || true)"

step "site"
declare -A V=(
  [CAPTURE_PIPELINE]=hdmi-v4l2 [CAPTURE_PARAMS]='{ device: /dev/video0 }' [BIND_ADDRESS]=0.0.0.0
  [CLASSIFIER]=gain-resnet50 [SEGMENTER]=ca-unet [REQUIRE_SIGNATURE]=false [TRUSTED_KEYS]=""
  [CURVE]=true [INSECURE]=false
)
if [ -n "$SITE" ]; then
  while IFS='=' read -r k v; do
    [[ -z "$k" || "$k" == \#* ]] && continue
    [[ -v "V[$k]" ]] || { echo "  $SITE: unknown key $k (known: ${!V[*]})" >&2; exit 2; }
    V[$k]="$v"
  done < "$SITE"
fi

step "package"
if [ $DRY -eq 1 ]; then
  echo "  would ${DEB:+use $DEB}${DEB:-build the package with scripts/package.sh}"
elif [ -z "$DEB" ]; then
  DEB="$(bash "$SRC/scripts/package.sh" --out "$WORK")"
fi
[ $DRY -eq 1 ] || echo "  $(dpkg-deb -f "$DEB" Package Version | paste -sd' ')${PREVIOUS:+ (installed: $PREVIOUS)}" >&2

step "model bundles"
NEW="$WORK/new"
MODELS_DIR="$APP/models"
if [ -n "$MODELS" ]; then MODELS_DIR="$SITE_MODELS"; fi
if [ $DRY -eq 1 ]; then
  echo "  would unpack the package and verify every bundle (sha256${KEY:+ and signature from $KEY}) with its lumen"
else
  dpkg-deb -x "$DEB" "$NEW"
  mkdir -p "$NEW$SITE_MODELS"
  if [ -n "$MODELS" ]; then
    for manifest in "$MODELS"/*/manifest.json; do cp -a "$(dirname "$manifest")" "$NEW$SITE_MODELS/"; done
  fi
  verify=(node "$NEW$APP/dist/runtime/cli.js" models verify "$NEW$MODELS_DIR"/*/)
  [ -n "$KEY" ] && verify+=(--key "$KEY")
  "${verify[@]}"
fi

step "config"
if [ -n "$KEY" ]; then V[REQUIRE_SIGNATURE]=true V[TRUSTED_KEYS]=/etc/lumen/trusted-bundle-key.pub.pem; fi
# The daemon's key pair in /etc/lumen/keys is made by the package's postinst (lumen keys ensure).
V[MODELS_DIR]="$MODELS_DIR" V[STATE_DIR]=/var/lib/lumen V[CACHE_DIR]=/var/cache/lumen V[ETC_DIR]=/etc/lumen
config="$(cat "$SRC/scripts/config.template.yaml")"
for k in "${!V[@]}"; do config="${config//@$k@/${V[$k]}}"; done
if [ $DRY -eq 1 ]; then
  echo "  would write $ETC/config.yaml:"; sed 's/^/    /' <<< "$config"
else
  # The checks below run the unpacked package against its own files and a scratch state dir.
  check="$(sed -e "s|$APP/|$NEW$APP/|g" -e "s|$SITE_MODELS/|$NEW$SITE_MODELS/|g" -e "s|/var/lib/lumen\$|$WORK/state|" \
    -e "s|/var/cache/lumen/|$WORK/cache/|g" <<< "$config")"
  printf '%s\n' "$check" > "$WORK/check.yaml"
  [ -z "$KEY" ] || { cp "$KEY" "$WORK/key.pem"; check="${check//\/etc\/lumen\/trusted-bundle-key.pub.pem/$WORK/key.pem}"; printf '%s\n' "$check" > "$WORK/check.yaml"; }
fi

step "doctor"
if [ $DRY -eq 0 ]; then
  # Only what must hold before the switch: config, bundles, providers.
  node "$NEW$APP/dist/runtime/cli.js" doctor --config "$WORK/check.yaml" --json > "$WORK/doctor.json" || true
  node -e '
    const r = require(process.argv[1]);
    const must = r.checks.filter((c) => c.verdict === "FAIL" && /^(config|bundle|providers)/.test(c.name));
    for (const c of r.checks) console.error(`  ${c.verdict.padEnd(4)} ${c.name}: ${c.detail}`);
    process.exit(must.length ? 1 : 0);' "$WORK/doctor.json"
else
  echo "  would run lumen doctor from the new package"
fi

step "selftest"
if [ $DRY -eq 0 ]; then
  rc=0
  node "$NEW$APP/dist/runtime/cli.js" selftest --config "$WORK/check.yaml" --feed "$NEW$APP/var/feeds/demo.mkv" > "$WORK/selftest.txt" || rc=$?
  sed 's/^/  /' "$WORK/selftest.txt" >&2
  # Exit 2: the models could not run at all. Exit 1: they ran but missed the demo's lesions,
  # which only the reference models are built to find.
  if [ $rc -eq 2 ] || { [ $rc -ne 0 ] && [ "${V[CLASSIFIER]}" = ref-classifier ]; }; then exit 1; fi
  [ $rc -eq 0 ] || echo "  (site models are not trained on the synthetic demo: only their running is required)" >&2
else
  echo "  would run lumen selftest from the new package"
fi

step "install"
if [ $DRY -eq 1 ]; then
  echo "  would keep the previous package, config and models, write $ETC/config.yaml, install the bundles, dpkg -i the package"
else
  # What a rollback puts back: the installed package (kept here at each install), config, models.
  mkdir -p "$ROOT$KEEP" "$WORK/before"
  [ ! -f "$ETC/config.yaml" ] || cp -a "$ETC/config.yaml" "$WORK/before/config.yaml"
  [ ! -d "$ROOT$SITE_MODELS" ] || cp -a "$ROOT$SITE_MODELS" "$WORK/before/models"
  mkdir -p "$ETC"
  [ -z "$KEY" ] || install -m 0644 "$KEY" "$ETC/trusted-bundle-key.pub.pem"
  printf '%s\n' "$config" > "$ETC/config.yaml.new" && mv "$ETC/config.yaml.new" "$ETC/config.yaml"
  if [ -n "$MODELS" ]; then
    rm -rf "$ROOT$SITE_MODELS.new" && cp -a "$NEW$SITE_MODELS" "$ROOT$SITE_MODELS.new"
    rm -rf "$ROOT$SITE_MODELS" && mv "$ROOT$SITE_MODELS.new" "$ROOT$SITE_MODELS"
  fi
  name="$(dpkg-deb -f "$DEB" Package)_$(dpkg-deb -f "$DEB" Version)_$(dpkg-deb -f "$DEB" Architecture).deb"
  # A copy made by this run is dropped again if its release is rolled back (see rollback).
  [ -e "$ROOT$KEEP/$name" ] && FRESH=0 || FRESH=1
  cp "$DEB" "$ROOT$KEEP/$name"
  # The site's config.yaml was written above: dpkg keeps it (--force-confold).
  on_target dpkg -i --force-confdef --force-confold "$KEEP/$name" >&2
fi

rollback() {
  step "rollback"
  [ ! -f "$WORK/before/config.yaml" ] || cp -a "$WORK/before/config.yaml" "$ETC/config.yaml"
  if [ -d "$WORK/before/models" ]; then rm -rf "$ROOT$SITE_MODELS" && cp -a "$WORK/before/models" "$ROOT$SITE_MODELS"; fi
  prev="$(ls "$ROOT$KEEP"/lumen-edge_"${PREVIOUS}"_*.deb 2>/dev/null | head -1)"
  if [ -n "$PREVIOUS" ] && [ -n "$prev" ]; then
    on_target dpkg -i --force-confdef --force-confold "$KEEP/$(basename "$prev")" >&2
    echo "  lumen-edge $PREVIOUS reinstalled with its config and models" >&2
    # The cache keeps releases that ran: a rolled-back one would push the previous one out at the next prune.
    if [ "$FRESH" = 1 ] && [ "$(basename "$prev")" != "$name" ]; then rm -f "$ROOT$KEEP/$name"; fi
  else
    echo "  no previous package kept here: the new one stays installed, not running" >&2
  fi
}

step "takeover"
if [ $SYSTEMCTL -eq 1 ] && [ $DRY -eq 0 ]; then
  # postinst restarted the unit; Type=notify means active = capture live and models warm.
  on_target systemctl restart lumen-edge.service || true
  ok=0
  for _ in $(seq 1 $(( ${LUMEN_TAKEOVER_TIMEOUT_S:-120} / 2 ))); do
    if on_target systemctl is-active --quiet lumen-edge.service; then ok=1; break; fi
    sleep 2
  done
  if [ $ok -eq 0 ]; then
    echo "  lumen-edge did not become active within ${LUMEN_TAKEOVER_TIMEOUT_S:-120} s" >&2
    rollback
    STEP="takeover"
    exit 1
  fi
  echo "  lumen-edge.service active" >&2
else
  echo "  skipped${DRY:+ }(the unit starts at the next boot or systemctl start)" >&2
fi

step "prune"
# Keep the running package and the one that ran before it (by copy time: each install copies).
[ $DRY -eq 1 ] || ls -1t "$ROOT$KEEP"/lumen-edge_*.deb 2>/dev/null | tail -n +3 | while read -r old; do rm -f "$old"; done
echo "provision: OK, lumen-edge $( [ $DRY -eq 1 ] && echo '(dry run)' || dpkg-deb -f "$DEB" Version)${PREVIOUS:+ (previous: $PREVIOUS)}" >&2
