import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { LumenClient, type LumenMessage } from '../runtime/client/client.js';
import { TOPICS, type AlertHeader, type ClipInfo } from '../runtime/publish/protocol.js';
import type { RecordingStatus } from '../runtime/record/recorder-status.js';
import { CLI, endpoints, freePort, logOnFailure, lumen, stop, tempDir, waitFor, writeConfig, type Child } from './helpers/daemon.js';
import { shortDemoFeed } from './helpers/feeds.js';

type TeardownTest = { teardown(fn: () => unknown): void; passing(): boolean; comment(...m: unknown[]): void };

/**
 * `lumen run` in a mount namespace of its own, where `mount` (a shell command on $REC, the
 * recordings folder) has put a filesystem of the test's making: a real full or read-only disk,
 * seen by the daemon only. As root a mount namespace is enough; otherwise a user namespace too.
 */
function runWithMount(t: TeardownTest, rec: string, mount: string, config: string): Child {
  mkdirSync(rec, { recursive: true });
  const userns = process.getuid?.() === 0 ? [] : ['--user', '--map-root-user'];
  const script = `${mount} && exec "$0" "$@"`;
  const proc = spawn('unshare', [...userns, '--mount', '--propagation', 'private', 'sh', '-c', script, process.execPath, CLI, 'run', '--config', config], {
    env: { ...process.env, REC: rec },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const child = { proc, stdout: () => out, stderr: () => err, exited };
  t.teardown(async () => {
    logOnFailure(t, child);
    await stop(child);
  });
  return child;
}

async function setup(extra: object) {
  const feed = await shortDemoFeed();
  const dir = tempDir();
  const state = join(dir, 'state');
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: true },
    publish: { ...ep, statusIntervalMs: 250 },
    state: { dir: state },
    ...extra,
  });
  return { ep, config, rec: join(state, 'recordings') };
}

const recording = (m: LumenMessage) => (m.topic === TOPICS.status ? (m.header.recording ?? null) : null);

t.test('the disk fills up mid-clip: the clip fails with RECORD_DISK_FULL, recording stops and says so, alerting goes on', async (t) => {
  const port = await freePort();
  const { ep, config, rec } = await setup({
    metrics: { address: `127.0.0.1:${port}` },
    record: { clips: { preRollS: 2, postRollS: 2 }, retention: { minFreeMB: 0 } },
  });
  // 200 KB: the first clip (about 300 KB) cannot be finished.
  runWithMount(t, rec, 'mount -t tmpfs -o size=200k,mode=0700 lumen-full "$REC"', config);
  const client = new LumenClient({ ...ep, topics: [TOPICS.status, TOPICS.alert, TOPICS.clip] });
  t.teardown(() => client.close());
  const alerts: AlertHeader[] = [];
  const clips: ClipInfo[] = [];
  const stopped = await waitFor<LumenMessage>(
    client,
    (m) => {
      if (m.topic === TOPICS.alert) alerts.push(m.header);
      if (m.topic === TOPICS.clip) clips.push(m.header.clip);
      return recording(m)?.state === 'stopped';
    },
    120_000,
    'recording to stop',
  );
  const r = recording(stopped)!;
  t.equal(r.error?.code, 'RECORD_DISK_FULL', `status says why: ${r.error?.message}`);
  t.equal(alerts[0]?.type, 'raise', 'the first alert was raised');
  await waitFor<LumenMessage>(
    client,
    (m) => {
      if (m.topic === TOPICS.alert) alerts.push(m.header);
      if (m.topic === TOPICS.clip) clips.push(m.header.clip);
      return clips.some((c) => c.id === alerts[0].clip?.id);
    },
    30_000,
    'the first clip to be finished',
  );
  const first = clips.find((c) => c.id === alerts[0].clip!.id)!;
  t.match(first, { state: 'failed', error: { code: 'RECORD_DISK_FULL' } }, 'the clip the disk could not hold is failed, not complete');

  // Every alert raised after the fault is raised and cleared, journalled in order, without a clip.
  const since = r.error!.since;
  const raisedAfter = () => alerts.filter((a) => a.type === 'raise' && a.ts > since);
  const cleared = (r: AlertHeader) => alerts.some((a) => a.type === 'clear' && a.episode === r.episode);
  await waitFor<LumenMessage>(
    client,
    (m) => {
      if (m.topic === TOPICS.alert) alerts.push(m.header);
      return raisedAfter().filter(cleared).length >= 2;
    },
    90_000,
    'two alerts raised and cleared after the fault',
  );
  const later = raisedAfter();
  t.ok(
    later.every((a) => a.clip === undefined),
    `alerting goes on: ${later.length} raised (and cleared) after the fault, none naming a clip`,
  );
  t.ok(
    alerts.every((a, i) => i === 0 || a.seq === alerts[i - 1].seq + 1),
    'no alert lost: seq consecutive',
  );
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.match(metrics, /^lumen_recording_fault\{code="RECORD_DISK_FULL"\} 1$/m, 'metrics: the fault, by code');
  t.match(metrics, /^lumen_recording_state\{state="stopped"\} 1$/m, 'metrics: recording stopped');
});

t.test('the recordings folder is on a read-only filesystem: RECORD_FOLDER in status, alerts without clips, history says why', async (t) => {
  const { ep, config, rec } = await setup({ metrics: { enabled: false }, record: { clips: { preRollS: 2, postRollS: 2 } } });
  runWithMount(t, rec, 'mount -t tmpfs -o ro,size=64k lumen-ro "$REC"', config);
  const client = new LumenClient({ ...ep, topics: [TOPICS.status, TOPICS.alert] });
  t.teardown(() => client.close());
  const alerts: AlertHeader[] = [];
  let status: RecordingStatus | null = null;
  await waitFor<LumenMessage>(
    client,
    (m) => {
      if (m.topic === TOPICS.alert) alerts.push(m.header);
      status = recording(m) ?? status;
      return alerts.filter((a) => a.type === 'clear').length >= 1 && status !== null;
    },
    120_000,
    'an alert raised and cleared',
  );
  const r = status!;
  t.match(r, { state: 'stopped', error: { code: 'RECORD_FOLDER' } }, 'status: recording stopped, RECORD_FOLDER');
  t.match(r.error!.message, /read-only/, `the message says what is wrong: ${r.error!.message}`);
  t.ok(r.error!.message.includes(rec), 'and names the folder');
  t.ok(alerts.length >= 2 && alerts.every((a) => a.clip === undefined), 'alerts are raised and cleared, naming no clip');
  await t.rejects(
    client.clip('clip-20250101T000000Z-e1'),
    { code: 'CLIP_UNKNOWN', message: /read-only/ },
    'the history op says no recording can be had, and why',
  );
});

t.test('the recordings folder is deleted while the daemon runs: it is made again (0700) and the next clip is written', async (t) => {
  const { ep, config, rec } = await setup({ metrics: { enabled: false }, record: { clips: { preRollS: 1, postRollS: 1 } } });
  const daemon = lumen(['run', '--config', config]);
  const client = new LumenClient({ ...ep, topics: [TOPICS.clip] });
  t.teardown(async () => {
    client.close();
    logOnFailure(t, daemon);
    await stop(daemon);
  });
  const first = await waitFor<LumenMessage>(client, (m) => m.topic === TOPICS.clip && m.header.clip.state === 'complete', 90_000, 'a first clip');
  const gone = (first.header as { clip: ClipInfo }).clip;
  rmSync(rec, { recursive: true });
  const next = await waitFor<LumenMessage>(client, (m) => m.topic === TOPICS.clip, 90_000, 'the next clip');
  const c = (next.header as { clip: ClipInfo }).clip;
  t.equal(c.state, 'complete', `the next clip is complete (${c.error?.message ?? ''})`);
  t.ok(existsSync(join(rec, c.path)), 'its video is in the folder made again');
  t.equal(statSync(rec).mode & 0o777, 0o700, 'which is 0700 again');
  t.equal(statSync(join(rec, 'clips')).mode & 0o777, 0o700, 'and its clips folder too');
  t.equal(statSync(join(rec, c.path)).mode & 0o777, 0o600, 'the video 0600');
  await t.rejects(client.clip(gone.id), { code: 'CLIP_UNKNOWN' }, 'the clip deleted with the folder is unknown now (the index follows the disk)');
});
