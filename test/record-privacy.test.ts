import { join } from 'node:path';
import t from 'tap';
import { LumenClient, type LumenMessage } from '../runtime/client/client.js';
import { loadAnnotations } from '../runtime/annotations.js';
import { makeFeed } from '../runtime/feed/make-feed.js';
import type { Frame, Rect } from '../runtime/frame.js';
import { TOPICS, type ClipInfo } from '../runtime/publish/protocol.js';
import { endpoints, logOnFailure, lumen, stop, tempDir, waitFor, writeConfig } from './helpers/daemon.js';
import { runLumen } from './helpers/qa-feeds.js';
import { decodeRecording } from './helpers/recordings.js';
import { luma } from './helpers/still-feed.js';

/** A decoded pixel this bright inside a masked region would be text (the OSD's glyphs are near white). */
const DARK = 32;
/** Codec blur reaches a pixel or two past a mask's edge into it (4:2:0 chroma, 4×4 transforms). */
const EDGE = 2;

/** Brightest luma inside `r` shrunk by EDGE. */
function maxLuma(f: Frame, r: Rect): number {
  let max = 0;
  for (let y = Math.max(0, r.y + EDGE); y < Math.min(f.height, r.y + r.height - EDGE); y++) {
    for (let x = Math.max(0, r.x + EDGE); x < Math.min(f.width, r.x + r.width - EDGE); x++) max = Math.max(max, luma(f.data, (y * f.width + x) * 4));
  }
  return max;
}

t.test('with the OSD feed and privacy masks, no frame of any clip or segment shows a pixel of the burned-in text', async (t) => {
  const dir = tempDir();
  const feed = await makeFeed(join(dir, 'osd.mkv'), { width: 640, height: 480, fps: 10, seconds: 14, seed: 3, episodes: 'demo' });
  const ann = await loadAnnotations(feed.annotations);
  const text = ann.textRegions!.map((r) => ({
    x: Math.floor(r.x),
    y: Math.floor(r.y),
    width: Math.ceil(r.width),
    height: Math.ceil(r.height),
    onBorder: r.onBorder,
  }));
  t.ok(text.some((r) => r.onBorder) && text.some((r) => !r.onBorder), 'the feed has text in the border and text over the picture');
  // The source shows the text: what the recordings must not.
  const source: number[] = [];
  await decodeRecording(feed.video, (f, i) => i % 20 === 0 && source.push(Math.min(...text.map((r) => maxLuma(f, r)))));
  t.ok(
    source.every((v) => v > 150),
    `in the source every text line is bright (dimmest line's brightest pixel per sampled frame: ${source.map(Math.round).join(' ')})`,
  );

  const state = join(dir, 'state');
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: false },
    // As a site commissions it: masks over the lines that cross the picture; the border text
    // goes with everything outside the active area.
    roi: { privacyMasks: text.filter((r) => !r.onBorder).map((r) => ({ x: r.x, y: r.y, width: r.width, height: r.height })) },
    publish: { ...ep, statusIntervalMs: 250 },
    metrics: { enabled: false },
    state: { dir: state },
    record: { clips: { preRollS: 2, postRollS: 2 }, segments: { enabled: true, seconds: 10 } },
  });
  const client = new LumenClient({ ...ep, topics: [TOPICS.status, TOPICS.clip] });
  const daemon = lumen(['run', '--config', config]);
  t.teardown(async () => {
    client.close();
    logOnFailure(t, daemon);
    await stop(daemon);
  });
  const finished: ClipInfo[] = [];
  await waitFor<LumenMessage>(
    client,
    (m) => {
      if (m.topic === TOPICS.clip) finished.push(m.header.clip);
      return finished.filter((c) => c.kind === 'clip').length === 2 && finished.some((c) => c.kind === 'segment');
    },
    120_000,
    'two alert clips and a closed segment',
  );
  const s = await stop(daemon);
  t.equal(s.code, 0, 'the daemon stops cleanly (the open segment is finished)');

  const list = JSON.parse((await runLumen(['clips', 'list', '--json', '--state-dir', state])).stdout) as { recordings: ClipInfo[] };
  const recs = list.recordings;
  t.equal(recs.filter((r) => r.kind === 'clip').length, 2, 'two clips');
  t.ok(recs.filter((r) => r.kind === 'segment').length >= 2, 'and the procedure in segments');
  t.ok(
    recs.every((r) => r.state === 'complete'),
    'all complete',
  );
  for (const r of recs) {
    let frames = 0;
    let brightest = 0;
    let picture = 0;
    const decoded = await decodeRecording(join(state, 'recordings', r.path), (f) => {
      frames++;
      brightest = Math.max(brightest, ...text.map((box) => maxLuma(f, box)));
      // Not vacuous: the picture itself is in the recording.
      const a = ann.activeArea!;
      picture = Math.max(picture, maxLuma(f, { x: Math.round(a.x + a.width / 3), y: Math.round(a.y + a.height / 3), width: 20, height: 20 }));
    });
    t.equal(decoded, r.frames, `${r.id}: every frame decoded (${decoded})`);
    t.ok(brightest <= DARK, `${r.id}: no text pixel in any of ${frames} frames (brightest pixel over the text: ${Math.round(brightest)} ≤ ${DARK})`);
    t.ok(picture > 60, `${r.id}: while the picture is there (brightest pixel at its centre ${Math.round(picture)})`);
  }
});
