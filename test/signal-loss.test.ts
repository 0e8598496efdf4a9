import t from 'tap';
import { execFileSync } from 'node:child_process';
import { copyFileSync, createWriteStream, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { TOPICS, type StatusHeader } from '../runtime/publish/protocol.js';
import { daemonWithClient, endpoints, tempDir, waitFor, writeConfig } from './helpers/daemon.js';
import { shortDemoFeed } from './helpers/feeds.js';

type TeardownTest = Parameters<typeof daemonWithClient>[0];

/** The daemon replaying `location` (a file or a pipe), with a client on status (and `topics`). */
async function replayDaemon(t: TeardownTest, dir: string, location: string, loop: boolean, topics: string[] = [TOPICS.status]) {
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location }, loop },
    inference: { providers: ['cpu'] },
    publish: { ...ep, statusIntervalMs: 250 },
    state: { dir: join(dir, 'state') },
  });
  return daemonWithClient(t, config, { ...ep, topics });
}

/** Resident memory of a process, MB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

t.test('a stream that stalls without ending: "no signal" within a second, live again when it resumes', async (t) => {
  const feed = await shortDemoFeed(20, 10);
  const dir = tempDir();
  const fifo = join(dir, 'feed.fifo');
  execFileSync('mkfifo', [fifo]);
  const bytes = readFileSync(feed.video);
  // The daemon starts on a pipe nobody writes to yet: it must run and say so (a source opened
  // with blocking calls froze its event loop here: no status at all).
  const { client } = await replayDaemon(t, dir, fifo, false, [TOPICS.status, TOPICS.overlay]);
  await waitFor(client, (m) => m.topic === TOPICS.status && m.header.state === 'no-signal', 60_000, 'status no-signal while the pipe has no writer');
  // Written from the thread pool: the test's own loop keeps reading status while the pipe is full.
  const writer = createWriteStream(fifo);
  // The recording is still being written when the test ends: the write is cut off with the pipe.
  writer.on('error', () => {});
  t.teardown(() => void writer.destroy());
  const write = (chunk: Buffer) => void writer.write(chunk);
  // A third of the recording, then nothing (the writer stays open: a stall, not an end).
  write(bytes.subarray(0, Math.floor(bytes.length / 3)));
  let lastOverlayAt = 0;
  await waitFor(
    client,
    (m) => {
      if (m.topic === TOPICS.overlay) lastOverlayAt = Date.now();
      return lastOverlayAt > 0 && m.topic === TOPICS.status && m.header.signal?.state === 'live';
    },
    90_000,
    'frames from the stream',
  );
  const noSignal = await waitFor(
    client,
    (m) => {
      if (m.topic === TOPICS.overlay) lastOverlayAt = Date.now();
      return m.topic === TOPICS.status && m.header.state === 'no-signal';
    },
    30_000,
    'status no-signal',
  );
  const h = (noSignal as { header: StatusHeader }).header;
  const reportedAfter = Date.now() - lastOverlayAt;
  t.ok(reportedAfter < 2000, `no-signal published ${reportedAfter} ms after the last overlay (bound: 1 s of silence, then published at once)`);
  t.equal(h.signal?.state, 'no-signal', 'status.signal says so');
  t.match(h.signal?.lastError, /no frame for \d+ ms/, `and why (${h.signal?.lastError})`);
  // The stream resumes: the rest of the recording.
  const resumedAt = Date.now();
  write(bytes.subarray(Math.floor(bytes.length / 3)));
  const overlayAfter = await waitFor(client, (m) => m.topic === TOPICS.overlay, 30_000, 'an overlay after the stream resumed');
  const overlayMs = Date.now() - resumedAt;
  // Live again (the state is "running", or "degraded" where this loaded machine sheds work).
  await waitFor(
    client,
    (m) => m.topic === TOPICS.status && m.header.signal?.state === 'live' && m.header.state !== 'no-signal',
    30_000,
    'the signal live again',
  );
  const liveMs = Date.now() - resumedAt;
  t.ok(overlayAfter, 'overlays resume');
  t.ok(overlayMs < 2000, `first overlay ${overlayMs} ms after the stream resumed (goal: 2 s)`);
  // Status follows within its interval (250 ms here) plus the loaded machine's delays.
  t.ok(liveMs < 3000, `status live ${liveMs} ms after the stream resumed`);
});

t.test('a looping recording truncated to nothing: reported, retried with backoff, no spin and no memory growth', async (t) => {
  const feed = await shortDemoFeed(6, 10);
  const dir = tempDir();
  const video = join(dir, 'loop.mkv');
  copyFileSync(feed.video, video);
  const { daemon, client } = await replayDaemon(t, dir, video, true);
  await waitFor(client, (m) => m.topic === TOPICS.status && m.header.signal?.state === 'live' && m.header.processed > 5, 90_000, 'frames from the recording');
  const truncatedAt = Date.now();
  truncateSync(video, 0);
  t.equal(statSync(video).size, 0, 'the file is empty now');
  const silent = await waitFor(client, (m) => m.topic === TOPICS.status && m.header.state === 'no-signal', 30_000, 'no-signal after the truncation');
  const reportedAfter = (silent as { header: StatusHeader }).header.ts - truncatedAt;
  t.ok(reportedAfter < 2000, `no-signal published ${reportedAfter} ms after the file was truncated`);
  const lost = await waitFor(
    client,
    (m) => m.topic === TOPICS.status && m.header.state === 'no-signal' && (m.header.signal?.restarts ?? 0) >= 1,
    60_000,
    'no-signal after a failed re-open',
  );
  t.ok((lost as { header: StatusHeader }).header.signal?.lastError, `the reason is reported: ${(lost as { header: StatusHeader }).header.signal?.lastError}`);
  const rss0 = rssMb(daemon.proc.pid!);
  const cpu0 = Number(readFileSync(`/proc/${daemon.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ')[11]);
  const t0 = Date.now();
  // Ten seconds of a broken source: attempts back off; the process neither spins nor grows.
  const s = await waitFor(client, (m) => m.topic === TOPICS.status && Date.now() - t0 > 10_000, 30_000, 'ten seconds of statuses');
  const rss1 = rssMb(daemon.proc.pid!);
  const cpu1 = Number(readFileSync(`/proc/${daemon.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ')[11]);
  const cpuShare = (cpu1 - cpu0) / 100 / ((Date.now() - t0) / 1000);
  t.equal((s as { header: StatusHeader }).header.state, 'no-signal', 'still no signal, still publishing status');
  t.ok(rss1 - rss0 < 30, `memory steady: ${rss0.toFixed(0)} → ${rss1.toFixed(0)} MB`);
  t.ok(cpuShare < 0.5, `no spin: ${(cpuShare * 100).toFixed(0)} % of a core`);
  // The file comes back: the next attempt finds it.
  copyFileSync(feed.video, video);
  await waitFor(
    client,
    (m) => m.topic === TOPICS.status && m.header.signal?.state === 'live' && m.header.state !== 'no-signal',
    30_000,
    'the signal live again once the file is back',
  );
  t.pass('recovered by itself');
});

t.test('a source that is not there at start (capture card unplugged): the daemon runs, says so, and goes live within seconds of its return', async (t) => {
  const feed = await shortDemoFeed(6, 10);
  const dir = tempDir();
  const video = join(dir, 'later.mkv');
  const { client } = await replayDaemon(t, dir, video, true);
  const waiting = await waitFor(
    client,
    (m) => m.topic === TOPICS.status && m.header.state === 'no-signal' && /waiting for .*later\.mkv to appear/.test(m.header.signal?.lastError ?? ''),
    90_000,
    'no-signal, waiting for the source',
  );
  t.ok(waiting, 'status: no-signal, waiting for the source to appear');
  const restarts = (waiting as { header: StatusHeader }).header.signal?.restarts ?? -1;
  // While the path is absent nothing is opened (each open costs memory): the count stays put.
  await new Promise((r) => setTimeout(r, 2000));
  const still = await waitFor(client, (m) => m.topic === TOPICS.status, 10_000, 'a status');
  t.equal((still as { header: StatusHeader }).header.signal?.restarts, restarts, 'no capture attempts while the source is absent');
  const plugged = Date.now();
  copyFileSync(feed.video, video);
  await waitFor(client, (m) => m.topic === TOPICS.status && m.header.signal?.state === 'live', 30_000, 'the signal live once the source is there');
  t.ok(Date.now() - plugged < 5000, `live ${Date.now() - plugged} ms after the source appeared`);
});
