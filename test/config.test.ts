import t from 'tap';
import { writeFileSync } from 'node:fs';
import { parseConfig, loadConfig } from '../runtime/config/load.js';
import { lumen, ROOT, tempDir } from './helpers/daemon.js';

t.test('defaults: demo feed, reference models, tensorrt → cuda → cpu, frozen', async (t) => {
  const c = parseConfig({});
  t.equal(c.capture.pipeline, 'demo');
  t.same(c.inference.providers, ['tensorrt', 'cuda', 'cpu']);
  t.match(c.inference.classifier, /models\/ref-classifier$/);
  t.equal(c.publish.endpoint, 'tcp://127.0.0.1:5555');
  t.ok(Object.isFrozen(c.decision), 'sections are frozen');
});

t.test('unknown keys and wrong types are refused with the key path', async (t) => {
  t.throws(() => parseConfig({ decision: { raiseFrames: 'three' } }), { code: 'CONFIG_INVALID', message: /decision\.raiseFrames/ });
  t.throws(() => parseConfig({ capture: { pipelin: 'demo' } }), { code: 'CONFIG_INVALID', message: /capture\.pipelin: unknown key/ });
  t.throws(() => parseConfig({ inference: { providers: ['tpu'] } }), { code: 'CONFIG_INVALID', message: /inference\.providers\.0/ });
  t.throws(() => parseConfig({ decision: { raiseThreshold: 0.3, clearThreshold: 0.5 } }), /decision\.clearThreshold/);
});

t.test('YAML files: syntax errors name the line; relative paths are taken from the file', async (t) => {
  const dir = tempDir();
  writeFileSync(`${dir}/bad.yaml`, 'capture:\n  pipeline: demo\n  params: [unclosed\n');
  await t.rejects(loadConfig(`${dir}/bad.yaml`), { code: 'CONFIG_PARSE', message: /bad\.yaml at line/ });
  writeFileSync(`${dir}/ok.yaml`, 'inference:\n  classifier: bundles/cls\n');
  const c = await loadConfig(`${dir}/ok.yaml`);
  t.equal(c.inference.classifier, `${dir}/bundles/cls`);
  await t.rejects(loadConfig(`${dir}/missing.yaml`), { code: 'CONFIG_READ' });
});

t.test('lumen run refuses a bad config before starting anything, exit 2 with the path', async (t) => {
  const dir = tempDir();
  writeFileSync(`${dir}/c.yaml`, 'publish:\n  statusIntervalMs: -5\n');
  const c = lumen(['run', '--config', `${dir}/c.yaml`]);
  const e = await c.exited;
  t.equal(e.code, 2);
  t.match(c.stderr(), /CONFIG_INVALID: .*publish\.statusIntervalMs/);
});

t.test('the built-in default masks the demo processor text that crosses the picture', async (t) => {
  const { builtInConfig } = await import('../runtime/config/default.js');
  const { loadAnnotations } = await import('../runtime/feed/annotations.js');
  const c = await builtInConfig();
  const a = await loadAnnotations(`${ROOT}var/feeds/demo.annotations.json`);
  const over = (a.textRegions ?? []).filter((r) => !r.onBorder);
  t.ok(over.length > 0, 'the demo has text over the picture');
  for (const r of over) {
    t.ok(
      c.roi.privacyMasks.some((m) => m.x <= r.x && m.y <= r.y && m.x + m.width >= r.x + r.width && m.y + m.height >= r.y + r.height),
      `text at ${r.x},${r.y} ${r.width}×${r.height} is masked`,
    );
  }
});
