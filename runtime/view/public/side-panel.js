// The side panel: the alert list (with each alert's clip), the alert-history notice, and the
// daemon's status.
import { clock, el, fmt, s } from './state.js';

// The alert list may be incomplete while the daemon's history cannot be read: say so, with why.
export function showHistory(failure) {
  s.history = failure ? `Alert history unavailable (${failure.code}): alerts from before now may be missing; retrying in ${Math.ceil(failure.retryInMs / 1000)} s` : null;
  el.history.textContent = s.history ?? '';
  el.history.hidden = !s.history;
}

export function renderAlerts() {
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

export function renderStatus() {
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

