import t from 'tap';
import { ModelSession } from '../runtime/inference/model-session.js';
import { tensorrtEnv } from '../runtime/inference/ort.js';
import { createLogger } from '../runtime/log.js';
import { ROOT } from './helpers/daemon.js';

const settings = { deviceId: 0, intraOpThreads: 1, tensorrt: { fp16: true, engineCacheDir: '/tmp/e', timingCacheDir: '/tmp/t', workspaceMB: 512 } };
const trust = { requireSignature: false, trustedKeys: [] };
const log = createLogger('test', 'silent');

t.test('tensorrt first on a machine without its libraries ends on cpu, each failure recorded', async (t) => {
  const s = await ModelSession.open(`${ROOT}models/ref-classifier`, { providers: ['tensorrt', 'cuda', 'cpu'], settings, trust }, log);
  t.teardown(() => s.close());
  t.equal(s.provider, 'cpu');
  t.same(s.attempts.map((a) => [a.provider, a.ok]), [['tensorrt', false], ['cuda', false], ['cpu', true]]);
  t.match(s.attempts[0].reason, /Failed to load shared library/, 'the TensorRT failure names the missing library');
});

t.test('webgpu sits in the chain like the others: without an adapter it falls back to cpu', async (t) => {
  const s = await ModelSession.open(`${ROOT}models/ref-segmenter`, { providers: ['webgpu', 'cpu'], settings, trust }, log);
  t.teardown(() => s.close());
  t.equal(s.provider, 'cpu');
  t.equal(s.attempts[0].provider, 'webgpu');
  t.equal(s.attempts[0].ok, false);
  t.match(s.attempts[0].reason, /adapter/i, `the reason names the missing adapter: ${s.attempts[0].reason}`);
});

t.test('a chain with no working provider is refused with PROVIDER_UNAVAILABLE', async (t) => {
  await t.rejects(
    ModelSession.open(`${ROOT}models/ref-classifier`, { providers: ['tensorrt', 'cuda'], settings, trust }, log),
    { code: 'PROVIDER_UNAVAILABLE', message: /tensorrt, cuda/ },
  );
});

t.test('TensorRT options reach the provider through its environment variables', async (t) => {
  const env = tensorrtEnv({ fp16: false, engineCacheDir: '/var/cache/lumen/engines', timingCacheDir: '/var/cache/lumen/timing', workspaceMB: 1024 });
  t.equal(env.ORT_TENSORRT_FP16_ENABLE, '0');
  t.equal(env.ORT_TENSORRT_CACHE_PATH, '/var/cache/lumen/engines');
  t.equal(env.ORT_TENSORRT_TIMING_CACHE_PATH, '/var/cache/lumen/timing');
  t.equal(env.ORT_TENSORRT_MAX_WORKSPACE_SIZE, String(1024 * 1024 * 1024));
});
