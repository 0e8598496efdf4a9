// The page's shared state and the DOM elements it writes: every other module reads and updates these.

/** No overlay for longer than this: the signal is lost (the page says so). */
export const LOST_AFTER_MS = 1000;
/** No status either for longer than this: the daemon is unreachable. */
export const STATUS_STALE_MS = 2500;
/** No viewer heartbeat for longer than this: the WebSocket is dead even if not closed. */
export const HEARTBEAT_STALE_MS = 4000;
/** A preview older than this is not drawn (the neutral background is). */
export const PREVIEW_MAX_AGE_MS = 1500;
export const CHECK_EVERY_MS = 100;
export const ALERTS_SHOWN = 50;
/** Overlay→draw delay samples kept (newest). */
export const SAMPLES_KEPT = 2000;
export const RECONNECT_MIN_MS = 500;
export const RECONNECT_MAX_MS = 4000;
export const IMAGE_KIND = { overlay: 1, preview: 2 };
export const NEUTRAL = '#1d2127';
export const ROI_OUTLINE = '#3c4550';
export const CONTOUR = 'rgb(60, 255, 120)';
export const BOX_ALERT = 'rgb(255, 48, 48)';
export const BOX_WATCH = 'rgb(255, 210, 0)';

const $ = (id) => document.getElementById(id);
export const el = {
  body: document.body,
  link: $('link'),
  clock: $('clock'),
  sound: $('sound'),
  mute: $('mute'),
  stage: $('stage'),
  canvas: $('view'),
  banner: $('banner'),
  noalert: $('noalert'),
  picture: $('picture'),
  bannerDetail: $('banner-detail'),
  lost: $('lost'),
  lostTitle: $('lost-title'),
  lostDetail: $('lost-detail'),
  gate: $('gate'),
  nonclinical: $('nonclinical'),
  alerts: $('alerts'),
  history: $('history'),
  status: $('status'),
  statusAge: $('status-age'),
};

// The mute choice survives a reload where the browser keeps storage (not everywhere does).
export function load(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}
export function save(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // nothing to do: the choice lasts until the page reloads
  }
}

export const s = {
  clipsServed: false,
  ws: null,
  wsOpen: false,
  everOpened: false,
  reconnectMs: RECONNECT_MIN_MS,
  lastHeartbeatAt: 0, // performance.now()
  lastOverlayAt: 0,
  lastOverlayWall: 0, // Date.now() of the last overlay received
  lastStatusAt: 0,
  daemon: null, // DaemonLink from the viewer
  overlay: null, // { header, bitmap }
  preview: null, // { header, bitmap, at }
  pending: { 1: null, 2: null }, // newest undecoded image per kind (a one-slot mailbox)
  decoding: { 1: false, 2: false },
  status: null,
  alerts: [],
  link: 'connecting',
  alertOn: false,
  samples: [],
  drawn: 0,
  decodeSkipped: 0,
  transitions: [], // { link, at (Date.now()), lastOverlayAt (Date.now() of the last overlay) }
  geometry: null,
  gateText: null, // the gate notice shown, or null
  beeps: 0,
  muted: load('lumen.muted') === '1',
};

// Shown times and numbers, shared by the banner, the alert list and the status panel.

export function clock(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export function fmt(n, digits) {
  return typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '–';
}

export function secondsSince(t) {
  return t ? `${((performance.now() - t) / 1000).toFixed(0)}\u00a0s` : 'ever';
}
