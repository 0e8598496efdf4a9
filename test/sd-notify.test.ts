import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotifyError, SdNotifier, Watchdog, watchdogIntervalMs } from '../runtime/health/sd-notify.js';
import { exited, killOnTeardown, Lines, startListener, type NotifyMessage } from './helpers/notify-listener.js';

const here = dirname(fileURLToPath(import.meta.url));
const childScript = join(here, 'fixtures/health/notify-child.ts');

const messages = (lines: Lines): NotifyMessage[] => lines.all.filter((l) => l.event === 'message');

/** What the stand-in daemon (fixtures/health/notify-child.ts) prints. */
type ChildLine =
  | { event: 'ready'; intervalMs: number }
  | { event: 'tick'; pinged: boolean; progressed: number; error?: string }
  | { event: 'stalled' | 'flowing'; frames: number }
  | { event: 'no-systemd' | 'stopped' };

t.test('watchdogIntervalMs is half of WATCHDOG_USEC, for this PID only', async (t) => {
  t.equal(watchdogIntervalMs({}), null, 'no WatchdogSec=');
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '20000000' }), 10_000);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '42' }, 42), 10_000);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '41' }, 42), null, 'inherited by a child');
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '0' }), null);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'ten' }), null);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '1000' }), 1, 'never 0');
});

t.test('fromEnv: null outside systemd, a clear error for sockets it cannot reach', async (t) => {
  t.equal(SdNotifier.fromEnv({}), null);
  t.equal(SdNotifier.fromEnv({ NOTIFY_SOCKET: '' }), null);
  for (const bad of ['@/org/freedesktop/systemd1/notify', 'vsock:2:1234', `/${'x'.repeat(120)}`]) {
    t.throws(() => SdNotifier.fromEnv({ NOTIFY_SOCKET: bad }), { name: 'NotifyError', code: 'NOTIFY' }, bad.slice(0, 20));
  }
});

t.test('Watchdog pings only when frames progressed, and survives a failing sink', async (t) => {
  t.throws(() => new Watchdog({ watchdog: async () => {} }, { intervalMs: 0 }), RangeError);
  let pings = 0;
  let fail = false;
  const wd = new Watchdog(
    {
      watchdog: async () => {
        if (fail) throw new Error('socket gone');
        pings++;
      },
    },
    { intervalMs: 1000 },
  );
  t.same(await wd.tick(), { pinged: false, progressed: 0 }, 'no frames, no ping');
  wd.progress();
  wd.progress();
  t.same(await wd.tick(), { pinged: true, progressed: 2 });
  t.same(await wd.tick(), { pinged: false, progressed: 0 }, 'a stalled pipeline stops the pings');
  fail = true;
  wd.progress();
  const failed = await wd.tick();
  t.equal(failed.pinged, false);
  t.match(failed.error?.message, /socket gone/);
  t.equal(pings, 1);
  wd.close();
  wd.close();
  wd.progress();
  fail = false;
  t.equal((await wd.tick()).pinged, false, 'closed: no pings');
});

t.test('sends to a real datagram socket, with errno on failure', async (t) => {
  const { socketPath, lines } = await startListener(t);
  const n = SdNotifier.fromEnv({ NOTIFY_SOCKET: socketPath })!;
  t.ok(n);
  await n.ready('warm\nMAINPID=1');
  await n.extendTimeout(90_000);
  await lines.waitFor('two messages', () => messages(lines).length >= 2);
  const [ready, extend] = messages(lines);
  t.equal(ready.text, 'READY=1\nSTATUS=warm MAINPID=1', 'a newline in STATUS cannot inject an assignment');
  t.equal(ready.pid, process.pid, 'sent by this process, as NotifyAccess=main requires');
  t.equal(extend.text, 'EXTEND_TIMEOUT_USEC=90000000');
  n.close();
  n.close();
  await t.rejects(n.watchdog(), { code: 'NOTIFY', message: /closed/ });

  const missing = SdNotifier.fromEnv({ NOTIFY_SOCKET: `${socketPath}.missing` })!;
  await t.rejects(missing.watchdog(), { code: 'NOTIFY', errno: 'ENOENT' });
  const notASocket = `${socketPath}.file`;
  writeFileSync(notASocket, '');
  const refused = SdNotifier.fromEnv({ NOTIFY_SOCKET: notASocket })!;
  await t.rejects(refused.watchdog(), { code: 'NOTIFY', errno: 'ECONNREFUSED' });
  t.ok(new NotifyError('x') instanceof Error);
});

t.test('a child daemon: READY=1, pings while frames flow, silence when they stall', async (t) => {
  const { socketPath, lines: heard } = await startListener(t);
  const watchdogUsec = 400_000; // pings every 200 ms
  const env: NodeJS.ProcessEnv = { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: String(watchdogUsec) };
  delete env.WATCHDOG_PID;
  const child = spawn(process.execPath, [...process.execArgv, childScript], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  killOnTeardown(t, child);
  const said = new Lines<ChildLine>('child', child);

  await heard.waitFor('READY=1', (l) => l.event === 'message' && l.text.startsWith('READY=1'));
  const pingCount = () => messages(heard).filter((m) => m.text === 'WATCHDOG=1').length;
  await heard.waitFor('3 pings while frames flow', () => pingCount() >= 3);

  child.stdin.write('stall\n');
  const stalledAt = await said.waitFor('the child to stop its frames', (l) => l.event === 'stalled');
  // Three silent ticks in a row (1.5 × WatchdogSec) is what systemd would punish.
  let silentFrom = stalledAt;
  for (let silent = 0; silent < 3; silent++) {
    silentFrom = await said.waitFor(`silent tick ${silent + 1}`, (l) => l.event === 'tick' && !l.pinged, 60_000, silentFrom + 1);
  }
  const ticksWhileStalled = said.all.slice(stalledAt + 1, silentFrom + 1).filter((l) => l.event === 'tick');
  t.ok(ticksWhileStalled.filter((l) => l.pinged).length <= 1, 'at most the tick straddling the stall pinged');
  t.ok(
    ticksWhileStalled.slice(-3).every((l) => !l.pinged),
    'then no pings',
  );

  child.stdin.write('flow\n');
  const flowingAt = await said.waitFor('the child to resume', (l) => l.event === 'flowing');
  await said.waitFor('a ping after frames resume', (l) => l.event === 'tick' && l.pinged, 60_000, flowingAt + 1);

  child.stdin.write('quit\n');
  await heard.waitFor('STOPPING=1', (l) => l.event === 'message' && l.text.startsWith('STOPPING=1'));
  t.equal(await exited(child), 0, 'the child exits on its own once the notifier is closed');

  const got = messages(heard);
  t.equal(got[0].text, 'READY=1\nSTATUS=capture live, models warm');
  t.equal(got.at(-1)!.text, 'STOPPING=1\nSTATUS=shutting down');
  t.ok(
    got.every((m) => m.pid === child.pid),
    'every datagram came from the main PID',
  );
  const pingedTicks = said.all.filter((l) => l.event === 'tick' && l.pinged).length;
  t.equal(pingCount(), pingedTicks, 'every ping the child sent arrived, and nothing else');
  t.notOk(
    said.all.some((l) => l.event === 'tick' && l.error),
    'no send failed',
  );

  // What systemd would see: a gap between pings longer than WatchdogSec while frames stalled.
  const pingTimes = got.filter((m) => m.text === 'WATCHDOG=1').map((m) => m.t);
  const gaps = pingTimes.slice(1).map((tm, i) => tm - pingTimes[i]);
  t.ok(Math.max(...gaps) > watchdogUsec / 1000, `longest gap ${Math.max(...gaps).toFixed(0)} ms > WatchdogSec`);
  t.ok(pingTimes.at(-1)! > pingTimes[0], 'pings resumed after the stall');
});
