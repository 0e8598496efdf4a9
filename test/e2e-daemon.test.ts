import t from 'tap';
import { LumenClient, type LumenMessage } from '../runtime/client/client.js';
import { TOPICS, type AlertHeader, type OverlayHeader, type StatusHeader } from '../runtime/publish/protocol.js';
import { endpoints, logOnFailure, lumen, stop, tempDir, waitFor, writeConfig } from './helpers/daemon.js';
import { lesionEpisodes, shortDemoFeed } from './helpers/feeds.js';

t.test('lumen run on a short demo feed: status, overlays, frames gated for its bleeding, one alert per lesion episode, clean SIGTERM', async (t) => {
  const feed = await shortDemoFeed();
  const episodes = lesionEpisodes(feed.parsed);
  t.equal(episodes.length, 2, 'the demo schedule has two lesion episodes');
  const dir = tempDir();
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: false },
    inference: { providers: ['tensorrt', 'cuda', 'cpu'] },
    publish: { ...ep, statusIntervalMs: 250 },
    state: { dir: `${dir}/state` },
  });
  const client = new LumenClient({ ...ep });
  const daemon = lumen(['run', '--config', config]);
  t.teardown(async () => {
    client.close();
    logOnFailure(t, daemon);
    await stop(daemon);
  });

  const statuses: StatusHeader[] = [];
  const overlays: OverlayHeader[] = [];
  const alerts: AlertHeader[] = [];
  const payloads: (Buffer | null)[] = [];
  const overlayBytes: number[] = [];
  await waitFor<LumenMessage>(
    client,
    (m) => {
      if (m.topic === TOPICS.status) statuses.push(m.header);
      else if (m.topic === TOPICS.overlay) {
        overlays.push(m.header);
        payloads.push(m.payload);
        overlayBytes.push(Buffer.byteLength(JSON.stringify(m.header)));
      } else if (m.topic === TOPICS.alert) alerts.push(m.header);
      // The source ends after the last frame; the daemon then reports it.
      return m.topic === TOPICS.status && m.header.error === 'capture source ended';
    },
    90_000,
    'the end of the feed',
  );

  t.ok(statuses.length >= 2, 'status arrives repeatedly');
  const running = statuses.filter((s) => s.state === 'running').at(-1)!;
  t.same(running.providers, { classifier: 'cpu', segmenter: 'cpu' }, 'status reports the provider in use');
  t.ok(
    running.models.some((m) => m.id === 'ref-classifier'),
    'status reports the model versions',
  );
  // The chain as configured, whatever this machine's libraries: every provider before the one in
  // use failed with a stated reason, and the one in use is the first that worked.
  const attempts = (running.providerAttempts as Record<string, { provider: string; ok: boolean; reason?: string }[]>)['ref-classifier'];
  const used = attempts.findIndex((a) => a.ok);
  t.ok(used >= 0, 'one provider of the chain works');
  t.same(
    attempts.map((a) => a.provider),
    ['tensorrt', 'cuda', 'cpu'].slice(0, used + 1),
    'providers were tried in the configured order, up to the first that worked',
  );
  t.ok(
    attempts.slice(0, used).every((a) => !a.ok && typeof a.reason === 'string' && a.reason.length > 0),
    'each failed provider is recorded with its reason',
  );
  t.equal(running.providers.classifier, attempts[used].provider, 'status names the provider in use');
  t.ok(running.latencyMs.classify, 'status carries per-stage latency');
  t.ok(running.work && running.work.outsideOrtMs.p99 >= 0 && running.work.outsideOrtShare > 0, 'status carries the work outside ONNX Runtime');
  t.same(running.overlay, { format: 'geometry', pngEvery: null, png: running.overlay?.png }, 'overlays travel as geometry by default');
  t.match(running.overlay?.png, /overlay\.png/, 'status says how to turn PNG overlays on');
  // Under load the mailbox drops frames (counted): the overlays received match what was processed.
  const last = statuses.at(-1)!;
  t.ok(overlays.length > 0 && overlays.length >= last.processed - 5, `an overlay for each processed frame (${overlays.length} of ${last.processed})`);
  t.ok(
    overlays.every((o, i) => i === 0 || o.seq > overlays[i - 1].seq),
    'overlay seq increases',
  );
  t.ok(overlays.every((o) => o.format === 'geometry') && payloads.every((p) => p === null), 'no PNG payload unless the site turns it on');
  const boxed = overlays.filter((o) => o.box !== null);
  t.ok(boxed.length > 0, 'some overlays carry a lesion box');
  t.ok(
    boxed.every((o) => o.geometry.contours.length > 0 && o.geometry.mask !== null),
    'an overlay with a box carries its outline and mask',
  );
  for (const o of boxed.slice(0, 20)) {
    const xs = o.geometry.contours[0].filter((_, i) => i % 2 === 0);
    const ys = o.geometry.contours[0].filter((_, i) => i % 2 === 1);
    const b = o.box!;
    // The largest outline is the blob the box was taken from (up to a cell's rounding).
    const cell = o.roi.width / o.geometry.mask!.width + 1;
    t.ok(
      Math.min(...xs) >= b.x - cell && Math.max(...xs) <= b.x + b.width + cell && Math.min(...ys) >= b.y - cell && Math.max(...ys) <= b.y + b.height + cell,
      `frame ${o.frameId}: the outline lies on its box`,
    );
  }
  t.ok(Math.max(...overlayBytes) < 4096, `overlay messages are small (largest header ${Math.max(...overlayBytes)} bytes)`);
  // The demo bleeds before its first lesion: those frames are held back and say why.
  const bled = overlays.filter((o) => o.gated === 'bleeding');
  t.ok(bled.length > 0, `frames gated for bleeding (${bled.length})`);
  t.ok(
    bled.every((o) => o.score === null && o.quality !== null && o.quality.usable < 0.4),
    'not classified; less than the 40 % of the picture the gate asks for is usable',
  );
  t.ok(
    bled.every((o) => Object.values(o.quality!.hidden).every((v) => v <= (o.quality!.hidden.bleeding ?? 0))),
    'blood hides the most',
  );
  t.ok(
    bled.every((o) => !o.alert),
    'no alert while blood fills the view',
  );
  t.ok(
    overlays.every((o) => o.gated !== null || o.quality !== null),
    "every classified frame carries the gate's shares",
  );

  const raises = alerts.filter((a) => a.type === 'raise');
  const clears = alerts.filter((a) => a.type === 'clear');
  t.equal(raises.length, 2, 'one raise per episode');
  t.equal(clears.length, 2, 'one clear per episode');
  episodes.forEach(([first, last], i) => {
    const r = raises[i];
    const c = clears[i];
    // Live frame ids count frames delivered by GStreamer; frames it drops under load shift them
    // below the video's index (two frames of slack), and the mailbox may skip frames, so the
    // bounds are the episode itself: raised while the lesion is in view, cleared after it left
    // and before the next one.
    const next = episodes[i + 1]?.[0] ?? feed.parsed.frameCount;
    t.ok(r.frameId >= first - 2 && r.frameId <= last, `episode ${i + 1} (frames ${first}–${last}) raised at frame ${r.frameId}, while in view`);
    t.ok(c.frameId > last - 2 && c.frameId < next, `episode ${i + 1} cleared at frame ${c.frameId}, after it left and before the next`);
    t.ok(r.box && r.box.width > 0, 'the raise carries a box');
  });
  t.ok(
    alerts.every((a, i) => i === 0 || a.seq === alerts[i - 1].seq + 1),
    'alert seq is consecutive',
  );

  const s = await stop(daemon);
  t.equal(s.code, 0, 'SIGTERM exits 0');
  t.ok(s.ms < 2000, `SIGTERM exit took ${s.ms} ms (< 2000)`);
});
