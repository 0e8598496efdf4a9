import t from 'tap';
import { startListener } from './helpers/notify-listener.js';
import { endpoints, lumen, stop, tempDir, writeConfig } from './helpers/daemon.js';
import { shortDemoFeed } from './helpers/feeds.js';

t.test('under a real notify socket: READY once live, WATCHDOG while frames flow, none after they stop', async (t) => {
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
  const messages = () => lines.all.filter((l) => l.event === 'message');
  const ready = await lines.waitFor('READY=1', (l) => l.event === 'message' && /^READY=1/m.test(l.text), 90_000);
  t.equal(lines.all[ready].pid, daemon.proc.pid, 'READY comes from the daemon itself (NotifyAccess=main)');
  await lines.waitFor('a WATCHDOG=1 ping', (l) => l.event === 'message' && l.text === 'WATCHDOG=1', 30_000, ready);
  // Wait for the end of the feed, seen in the daemon's log.
  const ended = Date.now() + 60_000;
  while (!/capture source ended/.test(daemon.stderr()) && Date.now() < ended) await new Promise((r) => setTimeout(r, 200));
  t.match(daemon.stderr(), /capture source ended/, 'the source ended');
  const endedAt = performance.now();
  // Listener lines from here on arrived after the source ended.
  const endIndex = lines.all.length;
  const pingsAtEnd = messages().filter((m) => m.text === 'WATCHDOG=1').length;
  t.ok(pingsAtEnd >= 2, `pings while frames flowed (${pingsAtEnd})`);
  // The watchdog keeps ticking (and says so) without frames: wait for three withheld pings, that is
  // at least three intervals of 0.5 s, to show it has stopped pinging.
  const withheld = () => (daemon.stderr().match(/ping withheld/g) ?? []).length;
  const withheldBefore = withheld();
  const deadline = Date.now() + 30_000;
  while (withheld() < withheldBefore + 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.ok(withheld() >= withheldBefore + 3, `three watchdog ticks without a frame (${withheld() - withheldBefore} logged)`);
  const late = lines.all.slice(endIndex).filter((m) => m.event === 'message' && m.text === 'WATCHDOG=1').length;
  t.ok(late <= 1, `at most one ping in flight after frames stopped (${late} in ${Math.round(performance.now() - endedAt)} ms)`);
  t.match(daemon.stderr(), /ping withheld/, 'the daemon logs that it withholds pings');
  const s = await stop(daemon);
  t.equal(s.code, 0);
  t.ok(messages().some((m) => /STOPPING=1/.test(m.text)), 'STOPPING=1 on shutdown');
});
