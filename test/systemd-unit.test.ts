import t from 'tap';
import { SERVICE_ENV, SERVICE_NODE_FLAGS } from '../runtime/env.js';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// systemd-analyze and systemd-sysusers come with Debian's `systemd` package; the setup installs it.
const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const unitText = readFileSync(join(root, 'systemd/lumen-edge.service'), 'utf8');

async function tool(file: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { timeout: 120_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${file} is missing: install Debian's systemd package`);
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/**
 * A copy of the unit under its real name, to verify. verify checks that ExecStart's executable
 * exists (not its arguments), so the only rewrite ever made is the interpreter's path, and only
 * on a machine whose node is not /usr/bin/node; the unit itself is verified as shipped.
 */
function unitCopy(tt: Pick<typeof t, 'teardown'>, text = unitText): string {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-unit-'));
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'lumen-edge.service');
  const node = existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath;
  writeFileSync(path, text.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${node} `));
  return path;
}

/** Lines of verify's output about our unit (it also reports on installed units it loads). */
const aboutUs = (out: string) => out.split('\n').filter((l) => l.includes('lumen-edge'));

t.test('systemd-analyze verify accepts the unit, without a single warning about it', async (t) => {
  const { code, out } = await tool('systemd-analyze', ['verify', '--man=no', unitCopy(t)]);
  t.equal(code, 0, out);
  t.same(aboutUs(out), [], 'verify exits 0 on unknown keys and bad values, so its output is checked too');
});

t.test('the check above would catch a typo or a bad value', async (t) => {
  const typo = await tool('systemd-analyze', ['verify', '--man=no', unitCopy(t, unitText.replace('WatchdogSec=', 'WatchdogSecs='))]);
  t.match(aboutUs(typo.out).join('\n'), /Unknown key 'WatchdogSecs'/);
  const badType = await tool('systemd-analyze', ['verify', '--man=no', unitCopy(t, unitText.replace('Type=notify', 'Type=notfy'))]);
  t.match(aboutUs(badType.out).join('\n'), /Failed to parse service type/);
  const missing = await tool('systemd-analyze', ['verify', '--man=no', unitCopy(t, unitText.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/node'))]);
  t.not(missing.code, 0, 'a missing interpreter fails verify');
});

t.test('the unit says what the daemon relies on', async (t) => {
  const keys = new Map<string, string[]>();
  for (const line of unitText.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) keys.set(m[1], [...(keys.get(m[1]) ?? []), m[2]]);
  }
  const one = (k: string) => keys.get(k)?.at(-1);
  t.equal(one('ExecStart'), `/usr/bin/node ${SERVICE_NODE_FLAGS.join(' ')} /usr/lib/lumen-edge/dist/runtime/cli.js run --config /etc/lumen/config.yaml`);
  t.equal(one('Type'), 'notify');
  t.equal(one('NotifyAccess'), 'main', 'the daemon notifies from its own PID');
  t.match(one('WatchdogSec'), /^\d+s$/);
  t.equal(one('Restart'), 'on-failure');
  t.ok(one('StartLimitIntervalSec') && Number(one('StartLimitBurst')) > 1);
  t.equal(one('User'), 'lumen');
  t.equal(one('DynamicUser'), undefined, 'a static user from sysusers.d');
  t.equal(one('SupplementaryGroups'), 'video');
  for (const [k, v] of [
    ['ProtectSystem', 'strict'],
    ['PrivateTmp', 'yes'],
    ['NoNewPrivileges', 'yes'],
    ['DevicePolicy', 'closed'],
  ]) {
    t.equal(one(k), v, k);
  }
  for (const k of ['StateDirectory', 'CacheDirectory', 'ConfigurationDirectory']) t.equal(one(k), 'lumen', k);
  const allowed = keys.get('DeviceAllow') ?? [];
  for (const dev of ['char-video4linux rw', 'char-nvidia* rw', '/dev/nvmap rw', '/dev/nvhost-ctrl-gpu rw', 'char-*.ga10b rw']) {
    t.ok(allowed.includes(dev), `DeviceAllow=${dev}`);
  }
  const env = keys.get('Environment') ?? [];
  for (const [k, v] of Object.entries(SERVICE_ENV)) t.ok(env.includes(`${k}=${v}`), `Environment=${k}=${v}, as the daemon is meant to run`);
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start;
  for (const [k, v] of Object.entries(SERVICE_ENV)) t.ok(start.includes(`${k}=${v} `), `npm start sets ${k}=${v} too`);
  t.ok(start.includes(`node ${SERVICE_NODE_FLAGS.join(' ')} dist/runtime/cli.js run`), 'npm start passes the V8 flags to node');
  t.notOk(keys.has('MemoryDenyWriteExecute'), "V8's JIT needs writable+executable memory");
  t.notOk(keys.has('PrivateDevices'), 'would hide the devices DeviceAllow= opens');
  t.notOk(keys.has('ProcSubset'), 'the health sampler reads /proc/stat and /proc/meminfo');
});

t.test('systemd-analyze security rates the unit as well hardened', async (t) => {
  const { code, out } = await tool('systemd-analyze', ['security', '--offline=yes', '--no-pager', unitCopy(t)]);
  const m = /Overall exposure level for lumen-edge\.service: (\d+(?:\.\d+)?)/.exec(out);
  // --offline= arrived in systemd 250; scripts/setup.sh --test installs Debian 12's (252).
  t.ok(m, `systemd-analyze security --offline rated the unit (exit ${code}): ${out.slice(-300)}`);
  t.ok(m !== null && Number(m[1]) <= 2.5, `exposure ${m?.[1]} (0 = locked down, 10 = wide open)`);
});

t.test('sysusers.d creates the lumen system user in group video', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-sysusers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'etc'));
  // An existing video group, as on Debian, Ubuntu and L4T.
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nvideo:x:44:\n');
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  const { code, out } = await tool('systemd-sysusers', [`--root=${dir}`, join(root, 'systemd/lumen.sysusers.conf')]);
  t.equal(code, 0, out);
  const passwd = readFileSync(join(dir, 'etc/passwd'), 'utf8');
  const group = readFileSync(join(dir, 'etc/group'), 'utf8');
  const user = /^lumen:x:(\d+):(\d+):[^:]*:\/var\/lib\/lumen:\/usr\/sbin\/nologin$/m.exec(passwd);
  t.ok(user, passwd);
  t.ok(Number(user![1]) < 1000, 'a system UID');
  t.match(group, /^video:x:44:lumen$/m, 'member of the existing video group');
  t.match(group, new RegExp(`^lumen:x:${user![2]}:$`, 'm'), 'its own primary group');
});
