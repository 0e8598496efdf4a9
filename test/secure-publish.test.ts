import t from 'tap';
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isLocalEndpoint } from '../runtime/publish/exposure.js';
import { ensureKeyFiles } from '../runtime/publish/curve-keys.js';
import { TOPICS } from '../runtime/publish/protocol.js';
import type { LumenMessage } from '../runtime/client/client.js';
import { daemonWithClient, freePort, lumen, tempDir, waitFor, writeConfig } from './helpers/daemon.js';

/**
 * "lo" is an interface name: the check does not trust names (eth0 could be anything), so it counts
 * as reachable from the network, while libzmq binds it to 127.0.0.1 only: the refusal and the
 * insecure path are exercised without opening anything to the network.
 */
async function loEndpoints(): Promise<{ endpoint: string; historyEndpoint: string; port: number }> {
  const port = await freePort();
  return { endpoint: `tcp://lo:${port}`, historyEndpoint: `tcp://lo:${await freePort()}`, port };
}

const SOURCE = { pipeline: 'test-source', params: { width: 160, height: 120, fps: 10 } };

t.test('which endpoints count as local', async (t) => {
  for (const e of ['tcp://127.0.0.1:5555', 'tcp://127.9.0.1:1', 'tcp://localhost:5555', 'tcp://[::1]:5555', 'ipc:///run/lumen/pub', 'inproc://x'])
    t.ok(isLocalEndpoint(e), e);
  for (const e of [
    'tcp://0.0.0.0:5555',
    'tcp://*:5555',
    'tcp://192.168.1.20:5555',
    'tcp://eth0:5555',
    'tcp://lo:5555',
    'tcp://[::]:5555',
    'tcp://appliance.local:5555',
    'tcp://127.0.0.1.evil:1',
  ])
    t.notOk(isLocalEndpoint(e), e);
});

t.test('a network-reachable endpoint without CURVE is refused at start with PUBLISH_INSECURE, and doctor FAILs it', async (t) => {
  const dir = tempDir();
  const { endpoint, historyEndpoint } = await loEndpoints();
  const config = writeConfig(dir, {
    capture: SOURCE,
    inference: { providers: ['cpu'] },
    publish: { endpoint, historyEndpoint },
    state: { dir: `${dir}/state` },
  });
  const run = lumen(['run', '--config', config]);
  const e = await run.exited;
  t.equal(e.code, 2, 'exit 2');
  t.match(run.stderr(), /lumen: PUBLISH_INSECURE: tcp:\/\/lo:\d+ and tcp:\/\/lo:\d+ would be reachable from the network/);
  t.match(run.stderr(), /lumen monitors add/, 'the message says how to enrol monitors');
  t.match(run.stderr(), /publish\.insecure: true/, 'and how to accept it on purpose');
  const doctor = lumen(['doctor', '--config', config, '--json']);
  t.equal((await doctor.exited).code, 1, 'doctor exits 1');
  const check = (JSON.parse(doctor.stdout()) as { checks: { name: string; verdict: string; detail: string }[] }).checks.find(
    (c) => c.name === 'publish security',
  );
  t.match(check, { verdict: 'FAIL', detail: /PUBLISH_INSECURE/ });
});

t.test('publish.insecure: true starts, and status, the log and doctor (WARN) say so', async (t) => {
  const dir = tempDir();
  const { endpoint, historyEndpoint, port } = await loEndpoints();
  const config = writeConfig(dir, {
    capture: SOURCE,
    inference: { providers: ['cpu'] },
    publish: { endpoint, historyEndpoint, insecure: true, statusIntervalMs: 200 },
    state: { dir: `${dir}/state` },
  });
  const { daemon, client } = daemonWithClient(t, config, { endpoint: `tcp://127.0.0.1:${port}`, topics: [TOPICS.status] });
  const m = await waitFor<LumenMessage>(client, (x) => x.topic === TOPICS.status, 60_000, 'status from the insecure daemon');
  if (m.topic !== TOPICS.status) throw new Error('not a status');
  t.match(m.header.security, { curve: false, insecure: true, exposed: true, monitors: null }, 'every status reports the insecure set-up');
  const warning = daemon
    .stderr()
    .split('\n')
    .filter((l) => l.includes('publish.insecure is set'))
    .map((l) => JSON.parse(l) as { level: number; insecure: boolean });
  t.equal(warning.length, 1, 'the log says so at start');
  t.match(warning[0], { level: 40, insecure: true }, 'as a warning');
  const doctor = lumen(['doctor', '--config', config, '--json']);
  await doctor.exited;
  const check = (JSON.parse(doctor.stdout()) as { checks: { name: string; verdict: string; detail: string }[] }).checks.find(
    (c) => c.name === 'publish security',
  );
  t.match(check, { verdict: 'WARN', detail: /publish\.insecure/ });
});

t.test('lumen keys ensure: made once, never replaced, secret mode 600; a damaged pair is refused and kept', async (t) => {
  const dir = tempDir();
  const first = lumen(['keys', 'ensure', '--out', `${dir}/keys/daemon`]);
  t.equal((await first.exited).code, 0, first.stderr());
  t.match(first.stdout(), /^created .*daemon\.key/);
  t.equal(statSync(`${dir}/keys/daemon.key`).mode & 0o777, 0o600, 'secret key: owner only');
  const pub = first.stdout().split('\n')[1].split(/\s+/)[1];
  const second = await ensureKeyFiles(`${dir}/keys/daemon`);
  t.equal(second.created, false, 'an upgrade keeps the key');
  t.equal(second.publicKey, pub, 'the same key');
  t.same(second.fixed, []);
  // An installer once made it world-readable: ensure tightens it, never regenerates.
  chmodSync(`${dir}/keys/daemon.key`, 0o644);
  rmSync(`${dir}/keys/daemon.pub`);
  const fixed = await ensureKeyFiles(`${dir}/keys/daemon`);
  t.equal(fixed.publicKey, pub);
  t.equal(statSync(`${dir}/keys/daemon.key`).mode & 0o777, 0o600, 'mode tightened');
  t.equal(readFileSync(`${dir}/keys/daemon.pub`, 'utf8'), `${pub}\n`, 'the .pub rewritten from the pair');
  t.equal(fixed.fixed.length, 2);
  writeFileSync(`${dir}/keys/daemon.key`, '{"publicKey":"x"}');
  const damaged = lumen(['keys', 'ensure', '--out', `${dir}/keys/daemon`]);
  t.equal((await damaged.exited).code, 2, 'a damaged pair: exit 2');
  t.match(damaged.stderr(), /lumen: KEY_FILE: /);
  t.equal(readFileSync(`${dir}/keys/daemon.key`, 'utf8'), '{"publicKey":"x"}', 'and it is left for a person to look at');
});

t.test('a daemon whose allow-list file is malformed at start refuses to start with ALLOWLIST_INVALID', async (t) => {
  const dir = tempDir();
  await ensureKeyFiles(`${dir}/daemon`);
  writeFileSync(`${dir}/monitors.list`, 'bed-1 not-a-key\n');
  const config = writeConfig(dir, {
    capture: SOURCE,
    inference: { providers: ['cpu'] },
    publish: {
      endpoint: `tcp://127.0.0.1:${await freePort()}`,
      historyEndpoint: `tcp://127.0.0.1:${await freePort()}`,
      curve: { enabled: true, keyFile: 'daemon.key', allowListFile: 'monitors.list' },
    },
    state: { dir: `${dir}/state` },
  });
  const run = lumen(['run', '--config', config]);
  t.equal((await run.exited).code, 2);
  t.match(run.stderr(), /lumen: ALLOWLIST_INVALID: .*monitors\.list line 1: the key of bed-1/);
});
