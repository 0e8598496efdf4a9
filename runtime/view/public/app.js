// view/public/: the bedside monitor page served by `lumen view`: plain JavaScript modules, no
// framework, no network but its own server; messages over /ws are in runtime/view/view-wire.ts.
// This module starts the page and offers window.lumenView to tests and people with devtools.
import { connect } from './connection.js';
import { evaluate } from './link-state.js';
import { audioState, renderSound } from './sound.js';
import { CHECK_EVERY_MS, clock, el, s } from './state.js';

setInterval(() => {
  evaluate();
  el.clock.textContent = clock(Date.now());
}, CHECK_EVERY_MS);

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

window.lumenView = {
  /** Overlay publication → drawn on the canvas, ms (newest samples). */
  stats() {
    const sorted = [...s.samples].sort((a, b) => a - b);
    return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null, drawn: s.drawn, decodeSkipped: s.decodeSkipped };
  },
  state() {
    return {
      link: s.link,
      alert: s.alertOn,
      alerts: s.alerts.length,
      audio: audioState(),
      muted: s.muted,
      beeps: s.beeps,
      frameId: s.overlay?.header.frameId ?? null,
      gate: s.gateText,
      history: s.history ?? null,
      transitions: [...s.transitions],
    };
  },
  /** Where the last overlay was drawn, in canvas pixels. */
  geometry() {
    return s.geometry;
  },
};

renderSound();
evaluate();
connect();
