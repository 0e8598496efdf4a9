// The link state (live, signal lost, daemon unreachable, viewer disconnected) and what follows
// from it: the alert banner, the quality-gate notice, a stale status, the signal-lost notice.
import { drop } from './connection.js';
import { HEARTBEAT_STALE_MS, LOST_AFTER_MS, STATUS_STALE_MS, clock, el, s, secondsSince } from './state.js';

const LINK_TEXT = {
  connecting: 'CONNECTING',
  live: 'LIVE',
  lost: 'SIGNAL LOST',
  unreachable: 'DAEMON UNREACHABLE',
  disconnected: 'VIEWER DISCONNECTED',
};

export function evaluate() {
  const now = performance.now();
  if (s.wsOpen && now - s.lastHeartbeatAt > HEARTBEAT_STALE_MS) drop(s.ws);
  let link;
  if (!s.wsOpen) link = s.everOpened ? 'disconnected' : 'connecting';
  else if (s.lastOverlayAt && now - s.lastOverlayAt <= LOST_AFTER_MS) link = 'live';
  else if (s.lastStatusAt && now - s.lastStatusAt <= STATUS_STALE_MS) link = 'lost';
  else link = 'unreachable';

  if (link !== s.link) {
    s.transitions.push({ link, at: Date.now(), lastOverlayAt: s.lastOverlayWall });
    if (s.transitions.length > 100) s.transitions.shift();
    s.link = link;
    el.body.dataset.link = link;
    el.link.textContent = LINK_TEXT[link];
  }

  // The alert banner shows the decision on the newest frame. Without frames the daemon decides
  // nothing new, so the state is unknown and the bar says so rather than repeating a stale one.
  const alertOn = link === 'live' && !!s.overlay?.header.alert;
  if (alertOn !== s.alertOn) {
    s.alertOn = alertOn;
    el.body.dataset.alert = alertOn ? 'on' : 'off';
    el.banner.hidden = !alertOn;
    el.noalert.hidden = alertOn;
  }
  if (!alertOn) {
    const known = link === 'live';
    el.noalert.textContent = known ? 'No alert' : 'Alert state unknown: no frames';
    el.noalert.classList.toggle('unknown', !known);
  }
  if (alertOn) {
    const raise = [...s.alerts].reverse().find((a) => a.header.type === 'raise');
    const score = link === 'live' ? s.overlay?.header.smoothed : null;
    el.bannerDetail.textContent = [score != null ? `score ${score.toFixed(2)}` : null, raise ? `since ${clock(raise.header.ts)}` : null].filter(Boolean).join(' · ');
  }

  // The newest frame was held back by the quality gate: say why, while it is current.
  const gate = link === 'live' ? gateText(s.overlay?.header) : null;
  if (gate !== s.gateText) {
    s.gateText = gate;
    el.gate.hidden = !gate;
    el.gate.textContent = gate ?? '';
  }

  // A status the daemon sent long ago is shown as such, not as the present.
  const statusStale = !!s.status && !(s.lastStatusAt && now - s.lastStatusAt <= STATUS_STALE_MS);
  el.status.classList.toggle('stale', statusStale);
  el.statusAge.textContent = statusStale ? (s.lastStatusAt ? `(${secondsSince(s.lastStatusAt)} old)` : '(from before)') : '';

  el.lost.hidden = link === 'live';
  if (link !== 'live') {
    el.lostTitle.textContent = link === 'lost' && !s.lastOverlayAt ? 'NO SIGNAL' : LINK_TEXT[link];
    el.lostDetail.textContent = lostDetail(link);
  }
}

// "Ungradable: bleeding 71 %": each reason the overlay gives, with the share of the picture it
// hides where the gate measured one (blur has none).
function gateText(h) {
  if (!h || !h.gated) return null;
  const hidden = (h.quality && h.quality.hidden) || {};
  const parts = h.gated.split(',').map((r) => (typeof hidden[r] === 'number' ? `${r} ${Math.round(hidden[r] * 100)}\u00a0%` : r));
  return `Ungradable: ${parts.join(', ')}`;
}

function lostDetail(link) {
  switch (link) {
    case 'connecting':
      return 'Connecting to the viewer…';
    case 'disconnected':
      return `The page lost its connection to the viewer (lumen view). Reconnecting… Last frame ${secondsSince(s.lastOverlayAt)} ago.`;
    case 'unreachable': {
      const err = s.daemon?.error ? ` (${s.daemon.error})` : '';
      return `No frames and no status from the daemon for ${secondsSince(Math.max(s.lastOverlayAt, s.lastStatusAt))}${err}. Waiting for it to come back…`;
    }
    case 'lost': {
      const st = s.status;
      const why = st?.error ? `: ${st.error}` : st?.state && st.state !== 'running' ? `: daemon ${st.state}` : '';
      return `No frames for ${secondsSince(s.lastOverlayAt)}${why}. The daemon is still reporting.`;
    }
    default:
      return '';
  }
}

