import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseConfig, loadConfig } from '../runtime/config/load.js';
import { DEMO_FEED } from '../runtime/config/paths.js';
import { CLI, lumen, ROOT, tempDir, writeConfig } from './helpers/daemon.js';

t.test('defaults: demo feed, reference models, tensorrt → cuda → cpu, frozen', async (t) => {
  const c = parseConfig({});
  t.same([c.capture.pipeline, c.capture.params], ['file-replay', { location: DEMO_FEED }], 'the demo: the built-in feed replayed');
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
  const { loadAnnotations } = await import('../runtime/annotations.js');
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

t.test('every numeric key is bounded to what the code can honour', async (t) => {
  const refused: [unknown, RegExp][] = [
    [{ publish: { statusIntervalMs: 99999999999 } }, /publish\.statusIntervalMs/],
    [{ publish: { statusIntervalMs: 2 ** 31 } }, /publish\.statusIntervalMs/],
    [{ publish: { statusIntervalMs: 1 } }, /publish\.statusIntervalMs/],
    [{ health: { sampleIntervalMs: 5e9 } }, /health\.sampleIntervalMs/],
    [{ capture: { readyTimeoutMs: 1e12 } }, /capture\.readyTimeoutMs/],
    [{ capture: { readyTimeoutMs: 0 } }, /capture\.readyTimeoutMs/],
    [{ publish: { sendHighWaterMark: 1e15 } }, /publish\.sendHighWaterMark/],
    [{ publish: { endpoint: 'tcp://127.0.0.1:99999' } }, /publish\.endpoint: port 99999 is outside 1–65535/],
    [{ publish: { historyEndpoint: 'tcp://127.0.0.1:0' } }, /publish\.historyEndpoint: port 0 is outside/],
    [{ publish: { endpoint: 'tcp://127.0.0.1:*' } }, /publish\.endpoint: .*not tcp:\/\/HOST:PORT/],
    [{ publish: { endpoint: 'tcp://127.0.0.1:6000', historyEndpoint: 'tcp://127.0.0.1:6000' } }, /publish\.historyEndpoint: must differ/],
    [{ publish: { preview: { every: 1e9 } } }, /publish\.preview\.every/],
    [{ inference: { intraOpThreads: 1e6 } }, /inference\.intraOpThreads/],
    [{ inference: { tensorrt: { workspaceMB: 1e12 } } }, /inference\.tensorrt\.workspaceMB/],
    [{ roi: { privacyMasks: [{ x: 0, y: 0, width: 1e9, height: 10 }] } }, /roi\.privacyMasks\.0\.width/],
    [{ health: { degrade: { latencyHighMs: 1e12 } } }, /health\.degrade\.latencyHighMs/],
    [{ health: { degrade: { holdSamples: 1e9 } } }, /health\.degrade\.holdSamples/],
  ];
  for (const [raw, path] of refused) t.throws(() => parseConfig(raw), { code: 'CONFIG_INVALID', message: path }, JSON.stringify(raw));
  const edge = parseConfig({
    publish: { statusIntervalMs: 60_000, endpoint: 'tcp://127.0.0.1:65535', historyEndpoint: 'ipc:///tmp/lumen-history' },
    capture: { readyTimeoutMs: 600_000 },
  });
  t.equal(edge.publish.statusIntervalMs, 60_000, 'the bounds themselves are accepted');
});

t.test('lumen run refuses each absurd config with exit 2, its code and the key, before starting anything', async (t) => {
  const dir = tempDir();
  writeFileSync(`${dir}/a-file`, 'not a folder\n');
  const cases: [string, unknown, string, RegExp][] = [
    ['status interval beyond a Node timer', { publish: { statusIntervalMs: 99999999999 } }, 'CONFIG_INVALID', /publish\.statusIntervalMs/],
    ['health sample interval beyond a Node timer', { health: { sampleIntervalMs: 5e9 } }, 'CONFIG_INVALID', /health\.sampleIntervalMs/],
    ['ready timeout of 30 years', { capture: { readyTimeoutMs: 1e12 } }, 'CONFIG_INVALID', /capture\.readyTimeoutMs/],
    ['high-water mark of 1e15', { publish: { sendHighWaterMark: 1e15 } }, 'CONFIG_INVALID', /publish\.sendHighWaterMark/],
    ['port 99999', { publish: { endpoint: 'tcp://127.0.0.1:99999' } }, 'CONFIG_INVALID', /publish\.endpoint: port 99999/],
    ['state.dir that is a file', { state: { dir: `${dir}/a-file` } }, 'CONFIG_PATH', /state\.dir: .*a-file is a file, not a folder/],
    ['state.dir under a file', { state: { dir: `${dir}/a-file/state` } }, 'CONFIG_PATH', /state\.dir: .*cannot be made: .*a-file is not a folder/],
  ];
  await Promise.all(
    cases.map(async ([what, raw, code, path], i) => {
      const config = writeConfig(dir, raw, `c${i}.json`);
      const c = lumen(['run', '--config', config]);
      const e = await c.exited;
      t.equal(e.code, 2, `${what}: exit 2`);
      t.match(c.stderr(), new RegExp(`^lumen: ${code}: .*${path.source}`, 'm'), `${what}: ${code} naming the key`);
      t.notMatch(c.stderr(), /\n\s+at /, `${what}: no stack trace`);
    }),
  );
});

t.test('lumen run warns when node started without the service environment or V8 flags, and only then', async (t) => {
  const dir = tempDir();
  writeFileSync(`${dir}/c.yaml`, 'publish:\n  statusIntervalMs: -5\n');
  const bare = spawnSync(process.execPath, [CLI, 'run', '--config', `${dir}/c.yaml`], {
    env: { ...process.env, UV_THREADPOOL_SIZE: undefined, LD_PRELOAD: undefined },
    encoding: 'utf8',
  });
  t.equal(bare.status, 2);
  t.match(bare.stderr, /without UV_THREADPOOL_SIZE/, 'the pool size is missing');
  t.match(bare.stderr, /without its heap flags/, 'the V8 flags are missing');
  t.match(bare.stderr, /without jemalloc/, 'the allocator is not preloaded');
  const service = lumen(['run', '--config', `${dir}/c.yaml`]);
  t.equal((await service.exited).code, 2);
  // The daemon looks for jemalloc in its own memory map: no warning means the preload took.
  t.notMatch(service.stderr(), /without UV_THREADPOOL_SIZE|without its heap flags|without jemalloc/, 'started as the service starts it: no warning');
});
