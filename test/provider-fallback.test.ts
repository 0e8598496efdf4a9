import t from 'tap';
import { ModelSession } from '../runtime/inference/model-session.js';
import { tensorrtEnv } from '../runtime/inference/providers.js';
import { createLogger } from '../runtime/log.js';
import { ROOT } from './helpers/daemon.js';

const settings = { deviceId: 0, intraOpThreads: 1, tensorrt: { fp16: true, engineCacheDir: '/tmp/e', timingCacheDir: '/tmp/t', workspaceMB: 512 } };
const trust = { requireSignature: false, trustedKeys: [] };
const log = createLogger('test', 'silent');

/** One inference on a mid-grey frame: the session really runs. */
async function runsAFrame(s: ModelSession): Promise<boolean> {
  const w = 64;
  const h = 48;
  const out = await s.infer({ id: 0, ts: 0, width: w, height: h, data: new Uint8Array(w * h * 4).fill(128) }, { x: 0, y: 0, width: w, height: h });
  return Object.values(out).every((tensor) => tensor.data.length > 0 && Array.from(tensor.data).every(Number.isFinite));
}

t.test('the default chain ends on the first provider that works, each failure before it recorded with a reason', async (t) => {
  const chain = ['tensorrt', 'cuda', 'cpu'] as const;
  const s = await ModelSession.open(`${ROOT}models/ref-classifier`, { providers: [...chain], settings, trust }, log);
  t.teardown(() => s.close());
  // Whatever this machine has: the attempts follow the chain, fail until one works, and stop there.
  const tried = s.attempts.map((a) => a.provider);
  t.same(tried, chain.slice(0, tried.length), `attempts follow the chain (${tried.join(' → ')})`);
  t.ok(s.attempts.at(-1)!.ok, 'the last attempt worked');
  t.equal(s.provider, s.attempts.at(-1)!.provider, 'the provider in use is the one that worked');
  for (const a of s.attempts.slice(0, -1)) {
    t.equal(a.ok, false, `${a.provider} failed`);
    t.ok(typeof a.reason === 'string' && a.reason.trim().length > 0, `${a.provider}: the reason is recorded (${a.reason})`);
  }
  t.ok(await runsAFrame(s), `the session runs on ${s.provider}`);
});

t.test('providers that cannot start fall through to cpu, each failure recorded with a reason', async (t) => {
  // No machine has GPU number 99, so TensorRT and CUDA fail here with or without their libraries.
  const s = await ModelSession.open(
    `${ROOT}models/ref-classifier`,
    { providers: ['tensorrt', 'cuda', 'cpu'], settings: { ...settings, deviceId: 99 }, trust },
    log,
  );
  t.teardown(() => s.close());
  t.equal(s.provider, 'cpu');
  t.same(
    s.attempts.map((a) => [a.provider, a.ok]),
    [
      ['tensorrt', false],
      ['cuda', false],
      ['cpu', true],
    ],
  );
  for (const a of s.attempts.slice(0, 2)) t.ok(typeof a.reason === 'string' && a.reason.trim().length > 0, `${a.provider}: the reason is recorded`);
  t.ok(await runsAFrame(s), 'the session runs on cpu');
});

t.test('webgpu sits in the chain like the others and the chain ends on a provider that runs', async (t) => {
  const s = await ModelSession.open(`${ROOT}models/ref-segmenter`, { providers: ['webgpu', 'cpu'], settings, trust }, log);
  t.teardown(() => s.close());
  t.equal(s.attempts[0].provider, 'webgpu', 'webgpu is tried first');
  t.ok(s.attempts.at(-1)!.ok && s.provider === s.attempts.at(-1)!.provider, `ends on a working provider (${s.provider})`);
  // Without a GPU adapter webgpu fails (and the reason is kept); with one it is the provider.
  t.ok(
    s.attempts[0].ok ? s.provider === 'webgpu' : s.provider === 'cpu' && (s.attempts[0].reason ?? '').trim().length > 0,
    `webgpu ${s.attempts[0].ok ? 'works' : `failed: ${s.attempts[0].reason?.slice(0, 80)}`}`,
  );
  t.ok(await runsAFrame(s), `the session runs on ${s.provider}`);
});

t.test('a chain with no working provider is refused with PROVIDER_UNAVAILABLE', async (t) => {
  await t.rejects(ModelSession.open(`${ROOT}models/ref-classifier`, { providers: ['tensorrt', 'cuda'], settings: { ...settings, deviceId: 99 }, trust }, log), {
    code: 'PROVIDER_UNAVAILABLE',
    message: /tensorrt, cuda/,
  });
});

t.test('TensorRT options reach the provider through its environment variables', async (t) => {
  const env = tensorrtEnv({ fp16: false, engineCacheDir: '/var/cache/lumen/engines', timingCacheDir: '/var/cache/lumen/timing', workspaceMB: 1024 });
  t.equal(env.ORT_TENSORRT_FP16_ENABLE, '0');
  t.equal(env.ORT_TENSORRT_CACHE_PATH, '/var/cache/lumen/engines');
  t.equal(env.ORT_TENSORRT_TIMING_CACHE_PATH, '/var/cache/lumen/timing');
  t.equal(env.ORT_TENSORRT_MAX_WORKSPACE_SIZE, String(1024 * 1024 * 1024));
});
