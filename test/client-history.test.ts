import t from 'tap';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { CLIENT_EVENTS, LumenClient, type HistoryFailure, type LumenMessage } from '../runtime/client/client.js';
import { TOPICS, type AlertHeader } from '../runtime/publish/protocol.js';
import { collectAlerts } from './helpers/alert-run.js';
import { endpoints, freePort, logOnFailure, lumen, stop, tempDir, writeConfig } from './helpers/daemon.js';
import { shortDemoFeed } from './helpers/feeds.js';

/**
 * A TCP relay in front of the daemon's history endpoint: in "blackhole" mode it accepts
 * connections and never answers (a firewall dropping packets, a hung peer); in "forward" mode
 * it relays to the daemon.
 */
/** Resolves with the child's stdout once it matches `re`, or rejects after `ms`. */
async function waitForOutput(c: ReturnType<typeof lumen>, re: RegExp, ms: number, what: string): Promise<string> {
  const deadline = Date.now() + ms;
  while (!re.test(c.stdout())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; stdout: ${c.stdout().slice(-500)}`);
    if (c.proc.exitCode !== null) throw new Error(`lumen watch exited (${c.proc.exitCode}) before ${what}: ${c.stderr().slice(-500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return c.stdout();
}

async function historyRelay(target: number): Promise<{ port: number; forward: () => void; close: () => Promise<void> }> {
  let forwarding = false;
  const held = new Set<Socket>();
  const relayed = new Set<Socket>();
  const server: Server = createServer((c) => {
    c.on('error', () => {});
    if (!forwarding) {
      held.add(c);
      c.on('close', () => held.delete(c));
      c.resume();
      return;
    }
    const up = connect(target, '127.0.0.1');
    relayed.add(c).add(up);
    c.on('close', () => relayed.delete(c));
    up.on('close', () => relayed.delete(up));
    up.on('error', () => c.destroy());
    c.on('close', () => up.destroy());
    up.on('close', () => c.destroy());
    c.pipe(up).pipe(c);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    forward: () => {
      forwarding = true;
      for (const c of held) c.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of [...held, ...relayed]) c.destroy();
        server.close(() => resolve());
      }),
  };
}

t.test('history that does not answer: the failure is surfaced and retried, alerts held back, status on time; then caught up', async (t) => {
  const feed = await shortDemoFeed();
  const dir = tempDir();
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: true },
    inference: { providers: ['cpu'] },
    publish: { ...ep, statusIntervalMs: 250 },
    state: { dir: `${dir}/state` },
  });
  const daemon = lumen(['run', '--config', config]);
  const watcher = new LumenClient({ ...ep, catchUpAfter: 0 });
  const relay = await historyRelay(Number(ep.historyEndpoint.split(':').at(-1)));
  const historyTimeoutMs = 3000;
  let late: LumenClient | undefined;
  let watch: ReturnType<typeof lumen> | undefined;
  t.teardown(async () => {
    watcher.close();
    late?.close();
    logOnFailure(t, daemon);
    if (watch) await stop(watch);
    await stop(daemon);
    await relay.close();
  });

  // The daemon raises and clears an episode before the late monitors join: they start behind.
  const seen = collectAlerts(watcher);
  await seen.waitCount(2, 90_000);

  // `lumen watch` against a history port where nothing answers prints the failure and keeps the status going.
  const deadPort = await freePort();
  watch = lumen(['watch', '-e', ep.endpoint, '--history', `tcp://127.0.0.1:${deadPort}`]);

  late = new LumenClient({
    endpoint: ep.endpoint,
    historyEndpoint: `tcp://127.0.0.1:${relay.port}`,
    catchUpAfter: 0,
    historyTimeoutMs,
    historyRetryMinMs: 200,
    historyRetryMaxMs: 800,
  });
  const failures: HistoryFailure[] = [];
  const statusAt: number[] = [];
  const alerts: { header: AlertHeader; recovered: boolean }[] = [];
  let recoveredAt = -1;
  const it = late[Symbol.asyncIterator]();
  const next = async (what: string): Promise<LumenMessage> => {
    const r = await Promise.race([it.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 30_000))]);
    if (r.done) throw new Error(`client ended while waiting for ${what}`);
    const m = r.value;
    if (m.topic === CLIENT_EVENTS.historyFailed) failures.push(m.header);
    if (m.topic === TOPICS.status) statusAt.push(performance.now());
    if (m.topic === TOPICS.alert) alerts.push({ header: m.header, recovered: m.recovered });
    if (m.topic === CLIENT_EVENTS.historyRecovered) recoveredAt = alerts.length;
    return m;
  };
  while (failures.length < 3) await next('three failed history attempts');
  t.same(
    failures.map((f) => f.attempt),
    [1, 2, 3],
    'each failed attempt is reported, numbered',
  );
  t.ok(
    failures.every((f) => f.code === 'HISTORY_UNAVAILABLE' && f.after === 0),
    'with its code and what is held back (everything after #0)',
  );
  t.ok(
    failures[1].retryInMs > failures[0].retryInMs && failures[2].retryInMs >= failures[1].retryInMs,
    `back-off grows (${failures.map((f) => f.retryInMs).join(', ')} ms)`,
  );
  t.equal(alerts.length, 0, 'no alert is delivered past the gap: nothing is reported as "nothing missed"');
  const gaps = statusAt.slice(1).map((at, i) => at - statusAt[i]);
  t.ok(statusAt.length >= 8, `status kept flowing while history failed (${statusAt.length} heartbeats)`);
  t.ok(
    Math.max(...gaps) < historyTimeoutMs,
    `no heartbeat waited for a history request (longest gap ${Math.round(Math.max(...gaps))} ms < ${historyTimeoutMs} ms)`,
  );

  const watchOut = await waitForOutput(
    watch,
    /HISTORY UNAVAILABLE[^\n]*\n(status [^\n]*\n){3}/,
    60_000,
    'lumen watch to report the failure, then three status lines',
  );
  t.match(
    watchOut,
    /HISTORY UNAVAILABLE HISTORY_UNAVAILABLE: alerts #1–#\d+ not delivered yet .*retrying in/,
    'lumen watch prints a visible line for the failure',
  );
  t.notMatch(watchOut, /^ALERT /m, 'lumen watch prints no alert out of order');

  relay.forward();
  const target = seen.alerts.length;
  while (alerts.length < target) await next(`the ${target} alerts after history came back`);
  t.equal(recoveredAt, 0, 'the recovery is announced before the held-back alerts');
  t.same(
    alerts.map((a) => a.header.seq),
    seen.alerts.slice(0, target).map((a) => a.seq),
    'then every alert, once, in order',
  );
  t.ok(alerts[0].recovered, 'the missed ones come from history');
});
