import t from 'tap';
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { buildReferenceBundles } from '../runtime/models/reference/build-reference.js';
import { copyBundle } from './helpers/bundles.js';
import { endpoints, lumen, tempDir, writeConfig } from './helpers/daemon.js';

async function configWith(extra: Record<string, unknown>): Promise<{ dir: string; config: string }> {
  const dir = tempDir();
  const config = writeConfig(dir, { publish: await endpoints(), state: { dir: `${dir}/state` }, ...extra });
  return { dir, config };
}

type Check = { name: string; verdict: 'OK' | 'WARN' | 'FAIL'; detail: string; action?: string };
type Report = { ok: boolean; checks: Check[] };

t.test('lumen doctor passes on this machine and says what it checked', async (t) => {
  const { config } = await configWith({});
  const c = lumen(['doctor', '--config', config, '--json']);
  const e = await c.exited;
  const r = JSON.parse(c.stdout()) as Report;
  t.equal(e.code, 0, 'exit 0');
  t.equal(r.ok, true);
  const byName: Record<string, Check> = Object.fromEntries(r.checks.map((x: Check) => [x.name, x]));
  t.equal(byName.gstreamer.verdict, 'OK');
  // The default chain tensorrt → cuda → cpu: each provider is checked; whichever this machine
  // cannot use is a WARN with its reason, and cpu, which every machine has, is usable.
  for (const p of ['tensorrt', 'cuda', 'cpu']) {
    const check = byName[`provider ${p}`];
    t.ok(
      check && (check.verdict === 'OK' ? check.detail === 'usable' : check.verdict === 'WARN' && /^not usable: \S/.test(check.detail)),
      `provider ${p}: usable, or not with a reason (${check?.verdict} ${check?.detail})`,
    );
  }
  t.equal(byName['provider cpu'].verdict, 'OK');
  t.equal(byName.zeromq.verdict, 'OK');
  t.match(byName.zeromq.detail, /^libzmq \S+ with CURVE \(available, not enabled\)$/, 'CURVE is available');
});

t.test('lumen doctor reports a provider that cannot run with its reason and what to do', async (t) => {
  // No machine has GPU number 99: TensorRT and CUDA fail here whether or not their libraries exist.
  const { config } = await configWith({ inference: { providers: ['tensorrt', 'cuda', 'cpu'], deviceId: 99 } });
  const c = lumen(['doctor', '--config', config, '--json']);
  t.equal((await c.exited).code, 0, 'a chain that ends on a usable provider passes');
  const byName: Record<string, Check> = Object.fromEntries((JSON.parse(c.stdout()) as Report).checks.map((x: Check) => [x.name, x]));
  for (const p of ['tensorrt', 'cuda']) {
    t.equal(byName[`provider ${p}`].verdict, 'WARN', `${p} is not usable`);
    t.match(byName[`provider ${p}`].detail, /^not usable: \S/, `${p}: the reason is given`);
    t.match(byName[`provider ${p}`].action, /onnxruntime build with this provider/, `${p}: what to do`);
  }
  t.same([byName['provider cpu'].verdict, byName['provider cpu'].detail], ['OK', 'usable']);
  const none = await configWith({ inference: { providers: ['tensorrt', 'cuda'], deviceId: 99 } });
  const d = lumen(['doctor', '--config', none.config, '--json']);
  t.equal((await d.exited).code, 1, 'a chain with no usable provider fails');
  const providers = (JSON.parse(d.stdout()) as Report).checks.find((x: Check) => x.name === 'providers');
  t.match(providers, { verdict: 'FAIL', detail: 'none of tensorrt, cuda can run the models' });
});

t.test('lumen doctor fails clearly on a corrupt model and on a missing GStreamer element', async (t) => {
  const { dir, config } = await configWith({});
  const bad = copyBundle('ref-classifier', dir);
  truncateSync(join(bad, 'model.onnx'), 1000);
  const broken = writeConfig(
    dir,
    { ...JSON.parse(JSON.stringify({ inference: { classifier: bad } })), publish: await endpoints(), state: { dir: `${dir}/state` } },
    'broken.json',
  );
  const c = lumen(['doctor', '--config', broken]);
  t.equal((await c.exited).code, 1, 'exit 1');
  t.match(c.stdout(), /FAIL bundle classifier\s+BUNDLE_HASH/);
  t.match(c.stdout(), /→ reinstall the bundle/);
  const jetson = writeConfig(dir, { capture: { pipeline: 'jetson-nvmm' }, publish: await endpoints(), state: { dir: `${dir}/state` } }, 'jetson.json');
  const d = lumen(['doctor', '--config', jetson]);
  t.equal((await d.exited).code, 1);
  t.match(d.stdout(), /FAIL gstreamer\s+pipeline "jetson-nvmm" needs nvv4l2camerasrc, nvvidconv/);
  void config;
});

t.test('lumen selftest raises an alert on each demo lesion and none on its bleeding, and fails on a corrupt model', async (t) => {
  const c = lumen(['selftest']);
  t.equal((await c.exited).code, 0, c.stdout());
  t.equal(c.stdout().match(/OK {3}lesion at frames \d+–\d+: alert at frame \d+/g)?.length, 2, 'both demo lesions alert');
  t.match(c.stdout(), /OK {3}bleeding at frames \d+–\d+: no alert/, 'the demo bleeds, and blood alone raises no alert');
  t.match(c.stdout(), /selftest: OK/);
  const { dir } = await configWith({});
  const bad = copyBundle('ref-segmenter', dir);
  truncateSync(join(bad, 'model.onnx'), 1000);
  const broken = writeConfig(dir, { inference: { segmenter: bad } }, 'broken.json');
  const d = lumen(['selftest', '--config', broken]);
  t.equal((await d.exited).code, 2, 'exit 2: the models could not run');
  t.match(d.stdout(), /FAIL BUNDLE_HASH/);
});

t.test('lumen selftest fails models that take blood for a lesion', async (t) => {
  // The reference models without their blood rule: colour models that score blood 0.999.
  const { dir } = await configWith({});
  await buildReferenceBundles(dir, 7, { bloodRule: false });
  const naive = writeConfig(dir, { inference: { classifier: join(dir, 'ref-classifier'), segmenter: join(dir, 'ref-segmenter') } }, 'naive.json');
  const c = lumen(['selftest', '--config', naive]);
  t.equal((await c.exited).code, 1, `exit 1 (${c.stdout()})`);
  t.match(c.stdout(), /FAIL bleeding at frames \d+–\d+: alert on at frame \d+ \(raised at frame \d+\)/, 'names the bleeding and the alert blood raised');
  t.match(c.stdout(), /OK {3}lesion at frames/, 'the lesions still pass: only blood fails');
  t.match(c.stdout(), /selftest: FAIL/);
});
