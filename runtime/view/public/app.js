// Lumen bedside monitor: plain JavaScript, no framework, no network but its own server.
// Messages from `lumen view` over /ws are described in runtime/view/view-wire.ts.
'use strict';

(() => {
  /** No overlay for longer than this: the signal is lost (the page says so). */
  const LOST_AFTER_MS = 1000;
  /** No status either for longer than this: the daemon is unreachable. */
  const STATUS_STALE_MS = 2500;
  /** No viewer heartbeat for longer than this: the WebSocket is dead even if not closed. */
  const HEARTBEAT_STALE_MS = 4000;
  /** A preview older than this is not drawn (the neutral background is). */
  const PREVIEW_MAX_AGE_MS = 1500;
  const CHECK_EVERY_MS = 100;
  const ALERTS_SHOWN = 50;
  /** Overlay→draw delay samples kept (newest). */
  const SAMPLES_KEPT = 2000;
  const RECONNECT_MIN_MS = 500;
  const RECONNECT_MAX_MS = 4000;
  const IMAGE_KIND = { overlay: 1, preview: 2 };
  const NEUTRAL = '#1d2127';
  const ROI_OUTLINE = '#3c4550';
  const CONTOUR = 'rgb(60, 255, 120)';
  const BOX_ALERT = 'rgb(255, 48, 48)';
  const BOX_WATCH = 'rgb(255, 210, 0)';

  const $ = (id) => document.getElementById(id);
  const el = {
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
  const ctx = el.canvas.getContext('2d');

  // The mute choice survives a reload where the browser keeps storage (not everywhere does).
  function load(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  }
  function save(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch {
      // nothing to do: the choice lasts until the page reloads
    }
  }

  const s = {
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

  // ---------- WebSocket ----------

  function connect() {
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
  function drop(ws) {
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

  // ---------- drawing ----------

  function fit(w, h, cw, ch) {
    const k = Math.min(cw / w, ch / h);
    const fw = w * k;
    const fh = h * k;
    return { x: (cw - fw) / 2, y: (ch - fh) / 2, width: fw, height: fh, scale: k };
  }

  function mapRect(r, f) {
    return r ? { x: f.x + r.x * f.scale, y: f.y + r.y * f.scale, width: r.width * f.scale, height: r.height * f.scale } : null;
  }

  function draw() {
    const c = el.canvas;
    const dpr = window.devicePixelRatio || 1;
    const cw = Math.max(1, Math.round(c.clientWidth * dpr));
    const ch = Math.max(1, Math.round(c.clientHeight * dpr));
    if (c.width !== cw || c.height !== ch) {
      c.width = cw;
      c.height = ch;
    }
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, cw, ch);
    const o = s.overlay;
    if (!o) {
      s.geometry = null;
      return;
    }
    const f = fit(o.header.width, o.header.height, cw, ch);
    ctx.fillStyle = NEUTRAL;
    ctx.fillRect(f.x, f.y, f.width, f.height);
    const roi = mapRect(o.header.roi, f);
    const p = s.preview;
    const previewShown = !!p && performance.now() - p.at <= PREVIEW_MAX_AGE_MS;
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    if (previewShown) {
      // The preview shows the ROI only (nothing outside it leaves the appliance).
      const pr = mapRect(p.header.roi, f);
      ctx.drawImage(p.bitmap, pr.x, pr.y, pr.width, pr.height);
    } else if (roi) {
      // No picture: outline where the models look, so the contour has a frame of reference.
      ctx.strokeStyle = ROI_OUTLINE;
      ctx.lineWidth = Math.max(1, 2 * dpr);
      ctx.strokeRect(roi.x, roi.y, roi.width, roi.height);
    }
    const g = o.header.geometry;
    if (g.attention) drawHeatmap(g.attention, f);
    const contours = g.contours.map((poly) => poly.map((v, i) => (i % 2 === 0 ? f.x + v * f.scale : f.y + v * f.scale)));
    ctx.strokeStyle = CONTOUR;
    ctx.lineWidth = Math.max(1.5, 2 * dpr);
    ctx.lineJoin = 'round';
    for (const poly of contours) {
      ctx.beginPath();
      for (let i = 0; i < poly.length; i += 2) (i === 0 ? ctx.moveTo : ctx.lineTo).call(ctx, poly[i], poly[i + 1]);
      ctx.closePath();
      ctx.stroke();
    }
    const box = mapRect(o.header.box, f);
    if (box) {
      ctx.strokeStyle = o.header.alert ? BOX_ALERT : BOX_WATCH;
      ctx.lineWidth = Math.max(2, 3 * dpr);
      ctx.strokeRect(box.x, box.y, box.width, box.height);
    }
    s.geometry = { canvas: { width: cw, height: ch }, image: f, roi, box, contours, frameId: o.header.frameId, preview: previewShown };
  }

  // The attention grid: a few cells, coloured yellow (weak) to red (strong), smoothed as it is
  // stretched over the area the models saw.
  function drawHeatmap(a, f) {
    const grid = document.createElement('canvas');
    grid.width = a.width;
    grid.height = a.height;
    const g = grid.getContext('2d');
    const img = g.createImageData(a.width, a.height);
    a.values.forEach((v, i) => {
      const k = v / 255;
      img.data.set(k < 0.2 ? [0, 0, 0, 0] : [255, Math.round(220 * (1 - k)), 0, Math.round(40 + 100 * k)], i * 4);
    });
    g.putImageData(img, 0, 0);
    const r = mapRect(a.rect, f);
    ctx.drawImage(grid, r.x, r.y, r.width, r.height);
  }

  new ResizeObserver(() => draw()).observe(el.picture);

  // ---------- link state, banner ----------

  const LINK_TEXT = {
    connecting: 'CONNECTING',
    live: 'LIVE',
    lost: 'SIGNAL LOST',
    unreachable: 'DAEMON UNREACHABLE',
    disconnected: 'VIEWER DISCONNECTED',
  };

  function secondsSince(t) {
    return t ? `${((performance.now() - t) / 1000).toFixed(0)}\u00a0s` : 'ever';
  }

  function evaluate() {
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

  setInterval(() => {
    evaluate();
    el.clock.textContent = clock(Date.now());
  }, CHECK_EVERY_MS);

  // ---------- alert list, status ----------

  function clock(ms) {
    const d = new Date(ms);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  }

  // The alert list may be incomplete while the daemon's history cannot be read: say so, with why.
  function showHistory(failure) {
    s.history = failure ? `Alert history unavailable (${failure.code}): alerts from before now may be missing; retrying in ${Math.ceil(failure.retryInMs / 1000)} s` : null;
    el.history.textContent = s.history ?? '';
    el.history.hidden = !s.history;
  }

  function renderAlerts() {
    const list = el.alerts;
    list.replaceChildren();
    if (s.alerts.length === 0) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = 'No alerts yet';
      list.append(li);
      return;
    }
    for (const a of [...s.alerts].reverse()) {
      const h = a.header;
      const li = document.createElement('li');
      li.className = h.type;
      const kind = document.createElement('span');
      kind.className = 'kind';
      kind.textContent = h.type.toUpperCase();
      const time = document.createElement('span');
      time.className = 'time';
      time.textContent = clock(h.ts);
      const score = document.createElement('span');
      score.className = 'score';
      score.textContent = h.type === 'raise' ? `score ${fmt(h.score, 2)}` : `peak ${fmt(h.peakScore, 2)}`;
      if (a.recovered) {
        const r = document.createElement('span');
        r.className = 'recovered';
        r.textContent = ' history';
        score.append(r);
      }
      li.title = `alert #${h.seq}, episode ${h.episode}, frame ${h.frameId}`;
      li.append(kind, time, score);
      if (h.clip) li.append(clipName(h.clip));
      list.append(li);
    }
  }

  // The alert's clip on the appliance: a download link when this viewer runs where the clips
  // are (hello.clips), else its name; an operator can always export it with
  // `lumen clips export ID --out FILE` (docs/recording.md).
  function clipName(c) {
    const node = document.createElement(s.clipsServed ? 'a' : 'span');
    node.className = 'clip';
    node.textContent = ` clip ${c.id}`;
    const frames = `frames ${c.firstFrame ?? '?'}–${typeof c.lastFrame === 'number' ? c.lastFrame : '…'}`;
    node.title = `recordings/${c.path}, ${frames}: lumen clips export ${c.id} --out FILE`;
    if (s.clipsServed) {
      node.href = `clips/${encodeURIComponent(c.id)}`;
      node.setAttribute('download', `${c.id}.mkv`);
    }
    return node;
  }

  function fmt(n, digits) {
    return typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '–';
  }

  // Health and degrade fields as lumen.status carries them (docs/protocol.md).
  function temperatures(st) {
    const h = st.health;
    if (!h) return '';
    const parts = [];
    if (typeof h.cpuTempC === 'number') parts.push(`CPU ${h.cpuTempC.toFixed(0)} °C`);
    if (typeof h.gpuTempC === 'number') parts.push(`GPU ${h.gpuTempC.toFixed(0)} °C`);
    return parts.join(', ');
  }

  function degrade(st) {
    const d = st.degrade;
    if (!d || typeof d.level !== 'number') return { text: st.state === 'degraded' ? 'yes' : '', bad: st.state === 'degraded' };
    return { text: d.level > 0 ? `level ${d.level}: ${d.name}` : 'none', bad: d.level > 0 };
  }

  function renderStatus() {
    const st = s.status;
    if (!st) return;
    const rows = [];
    const row = (k, v, bad = false) => v !== undefined && v !== null && v !== '' && rows.push([k, String(v), bad]);
    row('State', st.state, st.state !== 'running');
    row('FPS', typeof st.fps === 'number' ? `${fmt(st.fps, 1)}${typeof st.captureFps === 'number' ? ` (capture ${fmt(st.captureFps, 1)})` : ''}` : null);
    const age = st.frameAgeMs ?? st.latencyMs?.total;
    row('Latency', age ? `${fmt(age.p50, 0)} / ${fmt(age.p99, 0)} ms p50/p99` : null);
    if (st.providers && typeof st.providers === 'object') row('Provider', Object.entries(st.providers).map(([k, v]) => `${k} ${v}`).join('\n'));
    if (Array.isArray(st.models)) row('Models', st.models.map((m) => `${m.id} ${m.version}${m.clinical === false ? ' (reference)' : ''}`).join('\n'));
    const temp = temperatures(st);
    row('Temp.', temp || null);
    const deg = degrade(st);
    row('Degrade', deg.text || null, deg.bad);
    if (typeof st.dropped === 'number') row('Dropped', st.dropped);
    if (st.error) row('Error', st.error, true);
    el.status.replaceChildren(
      ...rows.flatMap(([k, v, bad]) => {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = v;
        if (bad) dd.className = 'bad';
        return [dt, dd];
      }),
    );
    el.nonclinical.hidden = !(Array.isArray(st.models) && st.models.some((m) => m.clinical === false));
  }

  // ---------- sound ----------
  // Browsers start audio only after a user gesture: until then the "Enable sound" button shows.

  let audio = null;

  function soundReady() {
    return !!audio && audio.state === 'running';
  }

  function renderSound() {
    el.sound.hidden = soundReady();
    el.mute.hidden = !soundReady();
    el.mute.textContent = s.muted ? 'Sound off' : 'Sound on';
    el.mute.setAttribute('aria-pressed', String(s.muted));
  }

  function tone(at, freq, dur) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'square';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + dur);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + dur + 0.02);
  }

  function beep() {
    if (!soundReady()) {
      el.sound.classList.add('attention'); // an alert went unheard: make the button obvious
      return;
    }
    if (s.muted) return;
    const t = audio.currentTime;
    tone(t, 880, 0.15);
    tone(t + 0.2, 1175, 0.2);
    s.beeps++;
  }

  el.sound.addEventListener('click', async () => {
    try {
      audio ??= new AudioContext();
      audio.onstatechange = renderSound;
      await audio.resume();
      el.sound.classList.remove('attention');
      s.muted = false;
      save('lumen.muted', '0');
      renderSound();
      tone(audio.currentTime, 660, 0.08); // confirms that sound works
    } catch (err) {
      el.sound.textContent = `Sound unavailable (${err && err.message ? err.message : err})`;
    }
  });

  el.mute.addEventListener('click', () => {
    s.muted = !s.muted;
    save('lumen.muted', s.muted ? '1' : '0');
    renderSound();
  });

  // ---------- for tests and people with devtools ----------

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
        audio: audio ? audio.state : 'none',
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
})();
