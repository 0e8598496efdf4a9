import t from 'tap';
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { copyBundle } from './helpers/bundles.js';
import { endpoints, lumen, tempDir, writeConfig } from './helpers/daemon.js';

async function configWith(extra: Record<string, unknown>): Promise<{ dir: string; config: string }> {
  const dir = tempDir();
  const config = writeConfig(dir, { publish: await endpoints(), state: { dir: `${dir}/state` }, ...extra });
  return { dir, config };
}

t.test('lumen doctor passes on this machine and says what it checked', async (t) => {
  const { config } = await configWith({});
  const c = lumen(['doctor', '--config', config, '--json']);
  const e = await c.exited;
  const r = JSON.parse(c.stdout());
  t.equal(e.code, 0, 'exit 0');
  t.equal(r.ok, true);
  const byName = Object.fromEntries(r.checks.map((x: { name: string }) => [x.name, x]));
  t.equal(byName.gstreamer.verdict, 'OK');
  t.equal(byName['provider cpu'].verdict, 'OK');
  t.equal(byName['provider tensorrt'].verdict, 'WARN', 'TensorRT is reported unusable here, with the reason');
  t.match(byName['provider tensorrt'].detail, /Failed to load shared library/);
  t.match(byName.zeromq.detail, /CURVE/);
});

t.test('lumen doctor fails clearly on a corrupt model and on a missing GStreamer element', async (t) => {
  const { dir, config } = await configWith({});
  const bad = copyBundle('ref-classifier', dir);
  truncateSync(join(bad, 'model.onnx'), 1000);
  const broken = writeConfig(dir, { ...JSON.parse(JSON.stringify({ inference: { classifier: bad } })), publish: await endpoints(), state: { dir: `${dir}/state` } }, 'broken.json');
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

t.test('lumen selftest raises an alert on each demo lesion, and fails on a corrupt model', async (t) => {
  const c = lumen(['selftest']);
  t.equal((await c.exited).code, 0, c.stdout());
  t.match(c.stdout(), /OK {3}lesion at frames \d+–\d+: alert at frame \d+/);
  t.match(c.stdout(), /selftest: OK/);
  const { dir } = await configWith({});
  const bad = copyBundle('ref-segmenter', dir);
  truncateSync(join(bad, 'model.onnx'), 1000);
  const broken = writeConfig(dir, { inference: { segmenter: bad } }, 'broken.json');
  const d = lumen(['selftest', '--config', broken]);
  t.equal((await d.exited).code, 2, 'exit 2: the models could not run');
  t.match(d.stdout(), /FAIL BUNDLE_HASH/);
});
