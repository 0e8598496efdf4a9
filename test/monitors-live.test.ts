import t from 'tap';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { LumenClient } from '../runtime/client/client.js';
import { generateKeyFiles } from '../runtime/publish/curve-keys.js';
import { TOPICS } from '../runtime/publish/protocol.js';
import { endpoints, logOnFailure, lumen, stop, tempDir, writeConfig, type Child } from './helpers/daemon.js';

/** Runs a short `lumen` command to its end. */
async function lumenCmd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = lumen(args);
  const e = await c.exited;
  return { code: e.code, stdout: c.stdout(), stderr: c.stderr() };
}

/** Keeps reading a client in the background and records when each status message arrived. */
class Tracker {
  readonly times: number[] = [];
  private readonly done: Promise<void>;
  constructor(readonly client: LumenClient) {
    this.done = (async () => {
      for await (const m of client) if (m.topic === TOPICS.status) this.times.push(Date.now());
    })().catch(() => undefined);
  }
  countSince(at: number): number {
    return this.times.filter((x) => x >= at).length;
  }
  get last(): number {
    return this.times.length ? this.times[this.times.length - 1] : 0;
  }
  async close(): Promise<void> {
    this.client.close();
    await this.done;
  }
}

/** Polls `pred` every 50 ms until it holds, or fails naming what it waited for. */
async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function logLines(daemon: Child, msg: string): Record<string, unknown>[] {
  return daemon
    .stderr()
    .split('\n')
    .filter((l) => l.includes(msg))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

t.test(
  'lumen monitors on a running daemon: a monitor enrolled live receives, a removed one is cut off within seconds, a bad file changes nothing',
  async (t) => {
    const dir = tempDir();
    const server = await generateKeyFiles(`${dir}/daemon`);
    const a = await generateKeyFiles(`${dir}/bed-a`);
    const b = await generateKeyFiles(`${dir}/bed-b`);
    const list = `${dir}/monitors.list`;
    const where = ['--file', list];

    const addB = await lumenCmd(['monitors', 'add', `${dir}/bed-b.pub`, ...where]);
    t.equal(addB.code, 0, addB.stderr);
    t.match(readFileSync(list, 'utf8'), `bed-b ${b.publicKey}`, 'the .pub file name is the default name');

    const ep = await endpoints();
    const config = writeConfig(dir, {
      capture: { pipeline: 'test-source', params: { width: 160, height: 120, fps: 10 } },
      inference: { providers: ['cpu'] },
      publish: { ...ep, statusIntervalMs: 200, curve: { enabled: true, keyFile: 'daemon.key', allowListFile: 'monitors.list' } },
      state: { dir: `${dir}/state` },
    });
    const daemon = lumen(['run', '--config', config]);
    const ta = new Tracker(new LumenClient({ ...ep, topics: [TOPICS.status], curve: { serverKey: server.publicKey, ...a } }));
    const tb = new Tracker(new LumenClient({ ...ep, topics: [TOPICS.status], curve: { serverKey: server.publicKey, ...b } }));
    t.teardown(async () => {
      await Promise.all([ta.close(), tb.close()]);
      logOnFailure(t, daemon);
      await stop(daemon);
    });

    await until(() => tb.times.length > 0, 60_000, 'status to the enrolled monitor bed-b');
    const listedAt = Date.now();
    await until(() => tb.countSince(listedAt) >= 5, 10_000, 'five more status messages to bed-b');
    t.equal(ta.times.length, 0, 'bed-a, not enrolled, received nothing while bed-b received');

    // Enrol bed-a while the daemon runs: its client, refused so far, gets in at its next attempt.
    const addA = await lumenCmd(['monitors', 'add', `${dir}/bed-a.pub`, '--name', 'bed-a', ...where]);
    t.equal(addA.code, 0, addA.stderr);
    const enrolledAt = statSync(list).mtimeMs;
    await until(() => ta.times.length > 0, 10_000, 'status to bed-a after it was enrolled');
    const admitMs = Math.round(ta.times[0] - enrolledAt);
    t.ok(admitMs < 5000, `bed-a received ${admitMs} ms after the allow-list was written`);
    await until(() => logLines(daemon, 'monitor allow-list changed').length > 0, 5000, 'the change in the log');
    t.match(logLines(daemon, 'monitor allow-list changed')[0], { added: [/^bed-a /], removed: [] }, 'the daemon logged the addition');

    const listed = await lumenCmd(['monitors', 'list', '--json', ...where]);
    t.same(
      (JSON.parse(listed.stdout) as { monitors: { name: string }[] }).monitors.map((m) => m.name),
      ['bed-b', 'bed-a'],
      'list shows both',
    );

    const before = readFileSync(list, 'utf8');
    // A hand edit with a duplicate line: the daemon refuses it and keeps both monitors in.
    writeFileSync(list, `${before}bed-a2 ${a.publicKey}\n`);
    await until(() => /ALLOWLIST_INVALID/.test(daemon.stderr()), 10_000, 'the daemon to refuse the duplicate line');
    const refusedAt = Date.now();
    const removeOnBad = await lumenCmd(['monitors', 'remove', 'bed-a', ...where]);
    t.equal(removeOnBad.code, 2, 'lumen monitors refuses to edit a malformed file');
    t.match(removeOnBad.stderr, /ALLOWLIST_INVALID: .*line 4/, 'naming the line');
    await until(() => ta.countSince(refusedAt) >= 3 && tb.countSince(refusedAt) >= 3, 10_000, 'both monitors to keep receiving after the refused file');
    t.pass('the running list stayed in place');
    writeFileSync(list, before);

    // Remove bed-a: its established connection is dropped and its reconnects are refused.
    const removed = await lumenCmd(['monitors', 'remove', 'bed-a', ...where]);
    t.equal(removed.code, 0, removed.stderr);
    const removedAt = statSync(list).mtimeMs;
    await until(() => logLines(daemon, 'connections dropped').length > 0, 10_000, 'the daemon to drop connections after the removal');
    await until(() => Date.now() - Math.max(ta.last, removedAt) > 2000, 15_000, 'bed-a to stop receiving for 2 s');
    const cutOffMs = Math.round(ta.last - removedAt);
    t.ok(cutOffMs < 5000, `bed-a's last status came ${cutOffMs} ms after the allow-list was written`);
    const quietFrom = Date.now();
    await until(() => tb.countSince(quietFrom) >= 10, 10_000, 'bed-b to keep receiving after the removal');
    t.equal(ta.countSince(quietFrom), 0, 'bed-a received nothing while bed-b received 10 status messages');
    t.match(logLines(daemon, 'monitor allow-list changed').at(-1), { removed: [/^bed-a /] }, 'the daemon logged the removal');
    t.ok(logLines(daemon, 'CURVE client refused').length >= 1, 'the refusal is logged');
    t.ok(logLines(daemon, 'CURVE client refused').length < 20, 'refusals of a client that keeps retrying are logged rate-limited');
    const dropMs = Math.round((logLines(daemon, 'connections dropped')[0].time as number) - removedAt);
    t.comment(
      `figures: written → first status to bed-a ${admitMs} ms; written → connections dropped ${dropMs} ms; written → last status to bed-a ${cutOffMs} ms`,
    );
  },
);
