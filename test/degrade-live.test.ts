import t from 'tap';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LumenMessage } from '../runtime/client/client.js';
import { TOPICS, type StatusHeader } from '../runtime/publish/protocol.js';
import { daemonWithClient, endpoints, ROOT, tempDir, writeConfig } from './helpers/daemon.js';
import { startListener } from './helpers/notify-listener.js';

// The recorded health series the degrade policy's unit test replays; here it drives the daemon
// through a sysfs tree (health.sysRoot) that the test rewrites reading by reading.
const series = (
  JSON.parse(readFileSync(join(ROOT, 'test/fixtures/health/degrade-series.json'), 'utf8')) as { readings: Array<{ phase: string; tempC: number }> }
).readings;
const phase = (name: string) => series.filter((r) => r.phase === name).map((r) => r.tempC);

// What docs/operations.md promises per level.
const LEVELS = [
  { level: 0, name: 'normal', segmenterEvery: 1, classifierEvery: 1 },
  { level: 1, name: 'segmenter every other frame', segmenterEvery: 2, classifierEvery: 1 },
  { level: 2, name: 'classifier at half rate', segmenterEvery: 4, classifierEvery: 2 },
  { level: 3, name: 'classifier at quarter rate', segmenterEvery: 8, classifierEvery: 4 },
];

interface Status {
  state: StatusHeader['state'];
  processed: number;
  shed: number;
  hottestC: number | null;
  gpuTempC: number | null;
  degrade: { level: number; name: string; segmenterEvery: number; classifierEvery: number };
}

t.test('the live daemon sheds and recovers on recorded temperatures, and publishes it', async (t) => {
  const dir = tempDir();
  // A one-zone sysfs tree, as a Jetson exposes it; the temperature file is replaced atomically.
  const zone = join(dir, 'sys/class/thermal/thermal_zone0');
  mkdirSync(zone, { recursive: true });
  writeFileSync(join(zone, 'type'), 'cpu-thermal\n');
  const setTemp = (c: number) => {
    writeFileSync(join(zone, 'temp.new'), `${Math.round(c * 1000)}\n`);
    renameSync(join(zone, 'temp.new'), join(zone, 'temp'));
  };
  setTemp(phase('normal')[0]);
  // A GPU tool that reports a cool GPU, so no real GPU of this machine takes part.
  const tools = join(dir, 'bin');
  mkdirSync(tools);
  writeFileSync(join(tools, 'nvidia-smi'), '#!/bin/sh\necho "12, 41, 300, 8000"\n');
  chmodSync(join(tools, 'nvidia-smi'), 0o755);

  const { socketPath, lines } = await startListener(t);
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'test-source', params: { width: 160, height: 120, fps: 30 } },
    inference: { providers: ['cpu'] },
    publish: { ...ep, statusIntervalMs: 100 },
    state: { dir: join(dir, 'state') },
    // Latency limits out of reach: only the recorded temperatures move the level.
    health: {
      sampleIntervalMs: 250,
      sysRoot: join(dir, 'sys'),
      degrade: { tempHighC: 85, tempClearC: 78, latencyHighMs: 60_000, latencyClearMs: 50_000, holdSamples: 2 },
    },
  });
  const env = { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '1000000', PATH: `${tools}:${process.env.PATH}` };
  const { daemon, client } = daemonWithClient(t, config, ep, env);

  const seen: Status[] = [];
  const statuses = (async function* () {
    for await (const m of client as AsyncIterable<LumenMessage>) {
      if (m.topic !== TOPICS.status) continue;
      const h = m.header;
      if (h.state === 'starting' || !h.health || !h.degrade) continue;
      const s: Status = { state: h.state, processed: h.processed, shed: h.shed, hottestC: h.health.hottestC, gpuTempC: h.health.gpuTempC, degrade: h.degrade };
      seen.push(s);
      yield s;
    }
  })();
  /** Next status for which pred holds, or fails naming what it waited for. */
  const next = async (what: string, pred: (s: Status) => boolean, ms = 30_000): Promise<Status> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>(
      (_, reject) =>
        (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}; last status ${JSON.stringify(seen.at(-1))}`)), ms)),
    );
    try {
      return await Promise.race([
        (async () => {
          for (;;) {
            const r = await statuses.next();
            if (r.done) throw new Error(`status stream ended while waiting for ${what}`);
            if (pred(r.value)) return r.value;
          }
        })(),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  const near = (a: number | null, b: number) => a !== null && Math.abs(a - b) < 0.01;

  /** Writes readings of `temps` in turn (round and round), each until the daemon reported it, until `until` holds. */
  const replay = async (name: string, temps: number[], until: (s: Status) => boolean, ms = 60_000): Promise<Status> => {
    const deadline = Date.now() + ms;
    for (let i = 0; ; i++) {
      const c = temps[i % temps.length];
      setTemp(c);
      const s = await next(`the daemon to report ${c} °C (${name} reading ${i})`, (s) => near(s.hottestC, c), deadline - Date.now());
      if (until(s)) return s;
    }
  };

  const first = await next('a status with health', () => true, 90_000);
  t.equal(first.degrade.level, 0, 'starts at level 0');
  t.equal(first.state, 'running');
  await replay('normal', phase('normal'), () => true);

  const top = await replay('hot', phase('hot'), (s) => s.degrade.level === 3);
  t.equal(top.state, 'degraded', 'state "degraded" at level 3');
  t.same(top.degrade, LEVELS[3], 'degrade names level 3 and its rates');
  t.equal(top.gpuTempC, 41, 'the GPU tool reading is published');
  // The classifier runs on every 4th frame at level 3: three frames shed per frame processed.
  const a = await next('frames processed at level 3', (s) => s.degrade.level === 3 && s.processed >= top.processed + 4);
  const fed = lines.all.length;
  await lines.waitFor('a WATCHDOG=1 ping at level 3', (l) => l.event === 'message' && l.text === 'WATCHDOG=1', 30_000, fed);
  const b = await next('more frames processed at level 3', (s) => s.degrade.level === 3 && s.processed >= a.processed + 8);
  const dp = b.processed - a.processed;
  const ds = b.shed - a.shed;
  t.ok(ds >= 3 * dp - 3 && ds <= 3 * dp + 3, `3 frames shed per frame classified at level 3 (${ds} shed, ${dp} processed)`);
  t.equal(seen.at(-1)!.degrade.level, 3, 'the watchdog is fed by the frames that still reach the models');

  const bottom = await replay('cool', phase('cool'), (s) => s.degrade.level === 0);
  t.equal(bottom.state, 'running', 'back to "running" at level 0');
  t.same(bottom.degrade, LEVELS[0]);
  const c = await next('frames processed at level 0', (s) => s.processed >= bottom.processed + 6);
  t.equal(c.shed, bottom.shed, 'nothing is shed at level 0');

  // Across the run: one level at a time, the state follows the level, and rates match the table.
  const levels = seen.map((s) => s.degrade.level).filter((l, i, all) => i === 0 || l !== all[i - 1]);
  t.same(levels, [0, 1, 2, 3, 2, 1, 0], 'up one level at a time, down one level at a time');
  t.ok(
    seen.every((s) => (s.degrade.level > 0 ? s.state === 'degraded' : s.state === 'running')),
    'state is "degraded" exactly while level > 0',
  );
  t.ok(
    seen.every((s) => JSON.stringify(s.degrade) === JSON.stringify(LEVELS[s.degrade.level])),
    'degrade carries the documented rates of its level',
  );
  // Shedding starts at level 2 (classifier at half rate): at levels 0 and 1 no frame is skipped.
  const pairs = seen.slice(1).map((s, i) => [seen[i], s] as const);
  const lowPairs = pairs.filter(([p, s]) => p.degrade.level <= 1 && s.degrade.level <= 1);
  t.ok(lowPairs.length > 5, `statuses at levels 0–1 to compare (${lowPairs.length})`);
  t.ok(
    lowPairs.every(([p, s]) => s.shed === p.shed),
    'no frame is shed at levels 0 and 1',
  );
  const log = daemon.stderr();
  for (const l of LEVELS.slice(1)) t.match(log, `degrade level ${l.level}: ${l.name}`, `level ${l.level} is logged`);
});
