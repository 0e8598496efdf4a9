// The WebSocket to `lumen view` (/ws): reconnects with back-off, and turns each message into
// page state. Messages are described in runtime/view/view-wire.ts.
import { evaluate } from './link-state.js';
import { draw } from './overlay-draw.js';
import { renderAlerts, renderStatus, showHistory } from './side-panel.js';
import { beep } from './sound.js';
import { ALERTS_SHOWN, IMAGE_KIND, RECONNECT_MAX_MS, RECONNECT_MIN_MS, SAMPLES_KEPT, s } from './state.js';

export function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.binaryType = 'arraybuffer';
  s.ws = ws;
  ws.onopen = () => {
    s.wsOpen = true;
    s.everOpened = true;
    s.reconnectMs = RECONNECT_MIN_MS;
    s.lastHeartbeatAt = performance.now();
    evaluate();
  };
  ws.onmessage = (ev) => {
    if (ws !== s.ws) return;
    if (typeof ev.data === 'string') onText(JSON.parse(ev.data));
    else onImage(ev.data);
  };
  ws.onclose = () => drop(ws);
  ws.onerror = () => drop(ws);
}

// Forgets a socket at once (a dead TCP connection can take long to report its close) and
// schedules the next attempt, backing off up to RECONNECT_MAX_MS.
export function drop(ws) {
  if (ws !== s.ws) return;
  s.ws = null;
  s.wsOpen = false;
  ws.close();
  setTimeout(connect, s.reconnectMs);
  s.reconnectMs = Math.min(RECONNECT_MAX_MS, s.reconnectMs * 2);
  evaluate();
}

function onText(m) {
  const now = performance.now();
  s.lastHeartbeatAt = now;
  switch (m.type) {
    case 'hello':
      s.alerts = m.alerts.slice(-ALERTS_SHOWN);
      s.daemon = m.daemon;
      showHistory(m.history);
      s.clipsServed = m.clips === true;
      if (m.status) setStatus(m.status, false);
      renderAlerts();
      break;
    case 'heartbeat':
      s.daemon = m.daemon;
      break;
    case 'status':
      setStatus(m.header, true);
      break;
    case 'history':
      showHistory(m.failure);
      break;
    case 'alert':
      s.alerts.push({ header: m.header, recovered: m.recovered });
      if (s.alerts.length > ALERTS_SHOWN) s.alerts.shift();
      renderAlerts();
      if (m.header.type === 'raise' && !m.recovered) beep();
      break;
    case 'topic':
      // Another topic the viewer hands on (TOPIC_TABLE `view`): shown here once the page knows it.
      break;
  }
  evaluate();
}

function setStatus(h, fresh) {
  s.status = h;
  if (fresh) s.lastStatusAt = performance.now();
  renderStatus();
}

function onImage(buf) {
  const view = new DataView(buf);
  const kind = view.getUint8(0);
  const len = view.getUint32(1);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 5, len)));
  const bytes = new Uint8Array(buf, 5 + len);
  s.lastHeartbeatAt = performance.now();
  if (kind === IMAGE_KIND.overlay) {
    s.lastOverlayAt = performance.now();
    s.lastOverlayWall = Date.now();
  }
  if (kind === IMAGE_KIND.overlay) {
    // Overlays are geometry (no image to decode): drawn at once.
    s.overlay = { header, at: performance.now() };
    draw();
    s.samples.push(Date.now() - (header.ts + header.latencyMs));
    if (s.samples.length > SAMPLES_KEPT) s.samples.shift();
    s.drawn++;
    evaluate();
    return;
  }
  if (kind !== IMAGE_KIND.preview) return;
  if (s.pending[kind]) s.decodeSkipped++;
  s.pending[kind] = { header, bytes };
  if (!s.decoding[kind]) void decodeLoop(kind);
  evaluate();
}

// Decodes the newest image of a kind; images that arrive meanwhile replace each other.
async function decodeLoop(kind) {
  s.decoding[kind] = true;
  try {
    while (s.pending[kind]) {
      const { header, bytes } = s.pending[kind];
      s.pending[kind] = null;
      let bitmap;
      try {
        bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
      } catch {
        continue; // a broken image: skip it, the next one will do
      }
      s.preview?.bitmap.close();
      s.preview = { header, bitmap, at: performance.now() };
      draw();
    }
  } finally {
    s.decoding[kind] = false;
  }
}

