import t from 'tap';
import { spawn } from 'node:child_process';
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, endpoints, lumen, tempDir, writeConfig } from './helpers/daemon.js';
import { copyBundle } from './helpers/bundles.js';

/** A config whose daemon logs "publishing", then stops on a missing bundle: a short, real log. */
async function failingConfig(): Promise<string> {
  const dir = tempDir();
  return writeConfig(dir, {
    publish: await endpoints(),
    inference: { providers: ['cpu'], classifier: join(dir, 'nothing-here') },
    state: { dir: join(dir, 'state') },
    metrics: { enabled: false },
  });
}

t.test('logs: pino JSON lines when stderr is not a terminal (journald, pipes)', async (t) => {
  const c = lumen(['run', '--config', await failingConfig()], { LUMEN_LOG_FORMAT: '' });
  const e = await c.exited;
  t.equal(e.code, 2, 'the missing bundle is refused');
  const first = c.stderr().split('\n')[0];
  t.match(JSON.parse(first), { level: 30, name: 'lumen', msg: 'publishing' }, 'the first line is a pino JSON record');
});

t.test('logs: readable lines on a terminal', async (t) => {
  // script(1) gives the daemon a real pseudo-terminal as stdout and stderr.
  const cmd = `${process.execPath} ${CLI} run --config ${await failingConfig()}`;
  const p = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LUMEN_LOG_FORMAT: '' } });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  await new Promise((r) => p.once('exit', r));
  // eslint-disable-next-line no-control-regex
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  t.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(lumen\): publishing/m, 'a time, the level and the message');
  t.notMatch(plain, /"level":30/, 'no JSON record');
});

t.test('lumen models verify --json: one entry per bundle with its code; exit 2 on a bad one', async (t) => {
  const bad = copyBundle('ref-segmenter');
  truncateSync(join(bad, 'model.onnx'), 10);
  const c = lumen(['models', 'verify', 'ref-classifier', bad, '--json']);
  const e = await c.exited;
  t.equal(e.code, 2);
  const r = JSON.parse(c.stdout()) as { ok: boolean; bundles: Record<string, unknown>[] };
  t.equal(r.ok, false);
  t.match(r.bundles[0], { path: 'ref-classifier', ok: true, id: 'ref-classifier', signed: false, sha256: /^[0-9a-f]{64}$/ });
  t.match(r.bundles[1], { path: bad, ok: false, code: 'BUNDLE_HASH' });
  const good = lumen(['models', 'verify', 'ref-classifier', '--json']);
  t.equal((await good.exited).code, 0);
  t.equal((JSON.parse(good.stdout()) as { ok: boolean }).ok, true);
});

t.test('lumen models inspect --json carries the same figures as the text', async (t) => {
  const c = lumen(['models', 'inspect', 'gain-resnet50', '--json']);
  t.equal((await c.exited).code, 0);
  const r = JSON.parse(c.stdout()) as { bundle: { id: string; task: string }; params: number; macs: number; outputs: { name: string; dims: number[] }[] };
  t.match(r.bundle, { id: 'gain-resnet50', task: 'classify' });
  t.equal(r.params, 23_512_130);
  t.equal(r.macs, 4_087_240_704);
  t.same(r.outputs.find((o) => o.name === 'attention')?.dims, [1, 1, 7, 7]);
});
