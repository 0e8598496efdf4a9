import t from 'tap';
import { startListener } from './helpers/notify-listener.js';
import { endpoints, lumen, ROOT, stop, tempDir, writeConfig } from './helpers/daemon.js';
import { shortDemoFeed } from './helpers/feeds.js';
import { writeSlowClassifier } from './helpers/slow-model.js';

t.test('under a real notify socket: READY once live, WATCHDOG while the daemon runs, with or without frames', async (t) => {
  const { socketPath, lines } = await startListener(t);
  const feed = await shortDemoFeed(6, 10);
  const dir = tempDir();
  const ep = await endpoints();
  // The feed plays once: frames flow for about 6 s, then the source ends and frames stop.
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: false },
    inference: { providers: ['cpu'] },
    publish: ep,
    state: { dir: `${dir}/state` },
  });
  const daemon = lumen(['run', '--config', config], { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '1000000' });
  t.teardown(() => stop(daemon));
  const pings = () => lines.all.filter((l) => l.event === 'message' && l.text === 'WATCHDOG=1').length;
  const ready = await lines.waitFor('READY=1', (l) => l.event === 'message' && /^READY=1/m.test(l.text), 90_000);
  t.match(lines.all[ready], { event: 'message', pid: daemon.proc.pid }, 'READY comes from the daemon itself (NotifyAccess=main)');
  await lines.waitFor('a WATCHDOG=1 ping', (l) => l.event === 'message' && l.text === 'WATCHDOG=1', 30_000, ready);
  // Wait for the end of the feed, seen in the daemon's log.
  for (const until = Date.now() + 60_000; !/capture source ended/.test(daemon.stderr()) && Date.now() < until;) await new Promise((r) => setTimeout(r, 200));
  t.match(daemon.stderr(), /capture source ended/, 'the source ended');
  const atEnd = pings();
  t.ok(atEnd >= 2, `pings while frames flowed (${atEnd})`);
  // No frames now, but the daemon is alive and its loops turn: systemd must not restart it for
  // a missing signal (an endoscope unplugged between procedures is normal operation).
  const after = lines.all.length;
  await lines.waitFor('two more pings after the source ended', () => pings() >= atEnd + 2, 20_000, after);
  t.pass('pings go on without frames');
  const s = await stop(daemon);
  t.equal(s.code, 0);
  t.ok(
    lines.all.some((m) => m.event === 'message' && /STOPPING=1/.test(m.text)),
    'STOPPING=1 on shutdown',
  );
});

t.test('a frame stuck in inference for longer than the watchdog interval withholds the ping', async (t) => {
  const { socketPath, lines } = await startListener(t);
  const feed = await shortDemoFeed(6, 10);
  const dir = tempDir();
  const slow = await writeSlowClassifier(`${dir}/models`);
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: true },
    inference: { providers: ['cpu'], classifier: `${dir}/models/${slow.id}`, segmenter: `${ROOT}models/ref-segmenter` },
    publish: ep,
    state: { dir: `${dir}/state` },
  });
  // A 0.2 s watchdog: pings every 0.1 s, and a frame in flight longer than that is "stuck".
  const daemon = lumen(['run', '--config', config], { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '200000' });
  t.teardown(() => stop(daemon));
  await lines.waitFor('READY=1', (l) => l.event === 'message' && /^READY=1/m.test(l.text), 90_000);
  for (const until = Date.now() + 60_000; !/ping withheld/.test(daemon.stderr()) && Date.now() < until;) await new Promise((r) => setTimeout(r, 100));
  t.match(daemon.stderr(), /ping withheld/, 'the daemon withholds pings while a frame is stuck in inference');
});
