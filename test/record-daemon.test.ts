import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { LumenClient, type LumenMessage } from '../runtime/client/client.js';
import { loadAnnotations } from '../runtime/annotations.js';
import { TOPICS, type AlertHeader, type ClipInfo, type StatusHeader } from '../runtime/publish/protocol.js';
import { endpoints, logOnFailure, lumen, stop, tempDir, waitFor, writeConfig } from './helpers/daemon.js';
import { shortDemoFeed } from './helpers/feeds.js';
import { runLumen } from './helpers/qa-feeds.js';
import { decodeRecording } from './helpers/recordings.js';

const PRE_S = 2;
const POST_S = 2;
/** Frames between keyframes: keyframeEveryS (1) × maxFps (15). */
const GOP = 15;
/** shortDemoFeed's frame rate. */
const FEED_FPS = 10;

t.test('each alert of the demo gets a clip from its pre-roll to its post-roll, named in the alert, decodable, replayable', async (t) => {
  const feed = await shortDemoFeed(12, FEED_FPS);
  const dir = tempDir();
  const state = join(dir, 'state');
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: false },
    publish: { ...ep, statusIntervalMs: 250 },
    metrics: { enabled: false },
    state: { dir: state },
    record: { clips: { preRollS: PRE_S, postRollS: POST_S } },
  });
  const client = new LumenClient({ ...ep, topics: [TOPICS.status, TOPICS.alert, TOPICS.overlay, TOPICS.clip] });
  const daemon = lumen(['run', '--config', config]);
  t.teardown(async () => {
    client.close();
    logOnFailure(t, daemon);
    await stop(daemon);
  });

  const alerts: AlertHeader[] = [];
  const clips: ClipInfo[] = [];
  const overlays = new Map<number, number>();
  let status: StatusHeader | null = null;
  await waitFor<LumenMessage>(
    client,
    (m) => {
      if (m.topic === TOPICS.alert) alerts.push(m.header);
      else if (m.topic === TOPICS.clip) clips.push(m.header.clip);
      else if (m.topic === TOPICS.overlay) overlays.set(m.header.frameId, m.header.ts);
      else if (m.topic === TOPICS.status) status = m.header;
      return clips.length === 2 && status?.error === 'capture source ended';
    },
    120_000,
    'two finished clips and the end of the feed',
  );
  const raises = alerts.filter((a) => a.type === 'raise');
  const clears = alerts.filter((a) => a.type === 'clear');
  t.equal(raises.length, 2, 'two alerts raised');
  t.equal(clears.length, 2, 'and cleared');
  for (const [i, r] of raises.entries()) {
    t.match(r.clip, { id: /^clip-\d{8}T\d{6}Z-e\d+$/, path: `clips/${r.clip?.id}.mkv` }, `raise ${i + 1} names its clip and its path in the recordings folder`);
    t.same({ ...clears[i].clip, lastFrame: undefined }, { ...r.clip, lastFrame: undefined }, 'its clear names the same clip');
    t.equal(r.clip?.lastFrame, undefined, 'the raise cannot know where the clip will end');
    // The short demo feed plays at FEED_FPS: the post-roll is about POST_S × FEED_FPS frame ids past the clear.
    const postFrames = clears[i].clip!.lastFrame! - clears[i].frameId;
    t.ok(
      postFrames >= POST_S * FEED_FPS * 0.7 && postFrames <= POST_S * FEED_FPS * 1.3,
      `the clear names the clip's last frame, ${postFrames} frames after it (post-roll ${POST_S} s at ${FEED_FPS} frames/s)`,
    );
    t.equal(clips[i].id, r.clip!.id, 'lumen.clip announces that clip when it is finished');
  }
  t.not(raises[0].clip!.id, raises[1].clip!.id, 'one clip per alert');
  const journal = readFileSync(join(state, 'alerts.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AlertHeader);
  t.same(
    journal.map((a) => a.clip?.id),
    alerts.map((a) => a.clip?.id),
    'the journal names the clip of each alert too',
  );

  const rec = join(state, 'recordings');
  t.equal(statSync(rec).mode & 0o777, 0o700, 'the recordings folder is 0700');
  t.equal(statSync(join(rec, 'clips')).mode & 0o777, 0o700, 'and its clips folder');
  for (const [i, c] of clips.entries()) {
    const raise = raises[i];
    const clear = clears[i];
    t.equal(c.state, 'complete', `clip ${c.id} is complete`);
    t.same(await client.clip(c.id), c, 'the history socket gives the same record');
    t.same(
      c.alert,
      { episode: raise.episode, onsetFrame: raise.onsetFrame, raiseFrame: raise.frameId, clearFrame: clear.frameId },
      'the record names its alert',
    );
    t.equal(c.firstFrame, raise.clip!.firstFrame, 'the first frame the raise named is the first in the file');
    t.ok(c.lastFrame! <= clear.clip!.lastFrame!, `the file ends at frame ${c.lastFrame}, not past the last frame the clear named (${clear.clip!.lastFrame})`);
    for (const f of [c.path, c.sidecar, `clips/${c.id}.json`]) t.equal(statSync(join(rec, f)).mode & 0o777, 0o600, `${f} is 0600`);

    const decoded = await decodeRecording(join(rec, c.path));
    const ann = await loadAnnotations(join(rec, c.sidecar));
    t.equal(decoded, c.frames, `GStreamer decodes ${decoded} frames, as recorded`);
    t.equal(ann.frameCount, decoded, 'the sidecar describes each of them');
    const sidecar = ann.appliance!.frames;
    t.ok(
      sidecar.every((f) => overlays.get(f.frameId) === f.ts),
      'every recorded frame is a frame the daemon processed (same id and capture time as its overlay)',
    );
    const on = (id: number) => raises.some((r, k) => id >= r.frameId && id < clears[k].frameId);
    t.ok(
      sidecar.every((f) => f.alert === on(f.frameId)),
      'the sidecar has the alert on from each raise to its clear (a pre-roll may hold the one before)',
    );
    t.ok(
      sidecar.some((f) => f.frameId === raise.frameId && f.alert),
      'the raising frame is in the clip, alert on',
    );

    // What the clip should hold: every processed frame from preRollS before the onset frame to
    // postRollS after the clear (or the feed's end), give or take the keyframe it starts on.
    const onsetTs = overlays.get(raise.onsetFrame)!;
    const ends = Math.min(clear.ts + POST_S * 1000, Math.max(...overlays.values()));
    const expected = [...overlays.values()].filter((ts) => ts >= onsetTs - PRE_S * 1000 && ts <= ends).length;
    const skipped = status!.recording!.frames.skippedBusy;
    t.ok(
      decoded >= expected - skipped && decoded <= expected + GOP,
      `${decoded} frames decoded, ${expected} expected within one GOP (${GOP}; ${skipped} skipped while the encoder was behind)`,
    );
    t.ok(
      sidecar[0].ts <= onsetTs - PRE_S * 1000 + 150,
      `the clip starts ${((onsetTs - sidecar[0].ts) / 1000).toFixed(2)} s before the onset frame (pre-roll ${PRE_S} s)`,
    );
    t.ok(
      sidecar.at(-1)!.ts >= ends - 150,
      `and ends ${((sidecar.at(-1)!.ts - clear.ts) / 1000).toFixed(2)} s after the clear (post-roll ${POST_S} s, or the feed's end)`,
    );

    const replay = await runLumen(['replay', join(rec, c.path), '--against-appliance']);
    t.equal(replay.code, 0, `lumen replay reproduces the appliance's alerts in ${c.id} (${replay.stderr.trim()})`);
    t.match(replay.stdout, /lostAlerts 0 .*newAlerts 0/, 'none lost, none new');
    t.match(replay.stdout, /verdict: PASS/);
  }
  await t.rejects(client.clip('clip-20000101T000000Z-e9'), { code: 'CLIP_UNKNOWN' }, 'an id never recorded: CLIP_UNKNOWN');

  const list = await runLumen(['clips', 'list', '--json', '--state-dir', state]);
  t.same(
    (JSON.parse(list.stdout) as { recordings: ClipInfo[] }).recordings.map((r) => [r.id, r.state]),
    clips.map((c) => [c.id, 'complete']),
    'lumen clips list shows both, complete',
  );
  const out = join(dir, 'evidence.tar');
  const exported = await runLumen(['clips', 'export', clips[0].id, '--out', out, '--state-dir', state]);
  t.equal(exported.code, 0, `lumen clips export (${exported.stderr.trim()})`);
  const into = tempDir();
  t.equal(spawnSync('tar', ['xf', out, '-C', into]).status, 0, 'the export is a tar');
  const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
  t.equal(sha(join(into, `${clips[0].id}.mkv`)), sha(join(rec, clips[0].path)), 'holding the clip byte for byte');

  // The status after the last clip was finished.
  const last = await waitFor<LumenMessage>(
    client,
    (m) => m.topic === TOPICS.status && m.header.recording?.recordings.complete === 2,
    10_000,
    'a status counting both clips',
  );
  const r = (last.header as StatusHeader).recording!;
  t.match(
    r,
    { state: 'ready', clips: true, segments: false, encoder: 'vp8', error: null, active: [], recordings: { complete: 2 } },
    'status: recording ready, two clips on disk',
  );
  t.ok(
    r.preRoll.bytes > 0 && r.preRoll.bytes <= r.preRoll.maxBytes && r.preRoll.seconds <= PRE_S + 1 + 2,
    `status: the pre-roll holds ${r.preRoll.seconds} s in ${r.preRoll.bytes} bytes`,
  );
  t.ok((last.header as StatusHeader).latencyMs.record, 'status: the record stage has its per-frame time');
  const s = await stop(daemon);
  t.equal(s.code, 0, 'SIGTERM exits 0');
  t.ok(s.ms < 2000, `SIGTERM exit took ${s.ms} ms (< 2000)`);
});
