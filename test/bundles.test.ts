import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelSession } from '../runtime/inference/model-session.js';
import { loadBundle } from '../runtime/models/bundle-load.js';
import { generateSigningKeys, signManifest } from '../runtime/models/bundle-sign.js';
import { buildReferenceBundles } from '../runtime/models/reference/build-reference.js';
import { createLogger } from '../runtime/log.js';
import { copyBundle, readManifest, writeManifest } from './helpers/bundles.js';
import { lumen, tempDir } from './helpers/daemon.js';

const log = createLogger('test', 'silent');
const open = (dir: string, trust = { requireSignature: false, trustedKeys: [] as string[] }) =>
  ModelSession.open(
    dir,
    {
      providers: ['cpu'],
      settings: { deviceId: 0, intraOpThreads: 1, tensorrt: { fp16: false, engineCacheDir: '', timingCacheDir: '', workspaceMB: 1 } },
      trust,
    },
    log,
  );

t.test('altered or truncated ONNX: BUNDLE_HASH naming the file and field', async (t) => {
  const a = copyBundle('ref-classifier');
  const bytes = readFileSync(join(a, 'model.onnx'));
  bytes[bytes.length - 10] ^= 0xff;
  writeFileSync(join(a, 'model.onnx'), bytes);
  await t.rejects(loadBundle(a), { code: 'BUNDLE_HASH', message: /model\.onnx: sha256 .* differs from onnx\.sha256/ });
  const b = copyBundle('ref-classifier');
  truncateSync(join(b, 'model.onnx'), 100);
  await t.rejects(loadBundle(b), { code: 'BUNDLE_HASH' });
});

t.test('a corrupt ONNX file whose hash matches: BUNDLE_ONNX from ONNX Runtime', async (t) => {
  const d = copyBundle('ref-classifier');
  const junk = Buffer.from('this is not a protobuf model'.repeat(20));
  writeFileSync(join(d, 'model.onnx'), junk);
  const m = readManifest(d);
  m.onnx.sha256 = createHash('sha256').update(junk).digest('hex');
  writeManifest(d, m);
  await t.rejects(open(d), { code: 'BUNDLE_ONNX' });
});

t.test('missing files, malformed manifests and unknown tasks each have their code', async (t) => {
  const d = copyBundle('ref-segmenter');
  rmSync(join(d, 'model.onnx'));
  await t.rejects(loadBundle(d), { code: 'BUNDLE_MISSING', message: /onnx\.file/ });
  await t.rejects(loadBundle(tempDir()), { code: 'BUNDLE_MISSING', message: /no manifest/ });
  const j = copyBundle('ref-segmenter');
  writeFileSync(join(j, 'manifest.json'), '{ "id": ');
  await t.rejects(loadBundle(j), { code: 'BUNDLE_MANIFEST', message: /not valid JSON/ });
  const f = copyBundle('ref-segmenter');
  const m = readManifest(f);
  writeManifest(f, { ...m, input: { ...m.input, mean: undefined } }); // JSON leaves out the undefined mean
  await t.rejects(loadBundle(f), { code: 'BUNDLE_MANIFEST', message: /field input\.mean/ });
  const k = copyBundle('ref-segmenter');
  writeManifest(k, { ...readManifest(k), task: 'detect' });
  await t.rejects(loadBundle(k), { code: 'BUNDLE_TASK', message: /field task: "detect"/ });
});

t.test('signatures: good, missing, wrong key, altered after signing', async (t) => {
  const keys = generateSigningKeys();
  const other = generateSigningKeys();
  const d = copyBundle('ref-classifier');
  const trust = { requireSignature: true, trustedKeys: [keys.publicPem] };
  await t.rejects(loadBundle(d, trust), { code: 'BUNDLE_SIGNATURE', message: /no signature/ });
  writeManifest(d, signManifest(readManifest(d), keys.privatePem));
  t.ok((await loadBundle(d, trust)).manifest.signature, 'a signature from a trusted key is accepted');
  await t.rejects(loadBundle(d, { requireSignature: true, trustedKeys: [other.publicPem] }), { code: 'BUNDLE_SIGNATURE', message: /not a trusted key/ });
  const m = readManifest(d);
  m.thresholds.suspicious = 0.01;
  writeManifest(d, m);
  await t.rejects(loadBundle(d, trust), { code: 'BUNDLE_SIGNATURE', message: /does not verify/ });
});

t.test('the model must match the manifest: input name, shape; outputs', async (t) => {
  const n = copyBundle('ref-classifier');
  writeManifest(n, { ...readManifest(n), input: { ...readManifest(n).input, name: 'pixels' } });
  await t.rejects(open(n), { code: 'BUNDLE_INPUT', message: /no input "pixels"/ });
  const s = copyBundle('ref-classifier');
  writeManifest(s, { ...readManifest(s), input: { ...readManifest(s).input, shape: [1, 3, 256, 256] } });
  await t.rejects(open(s), { code: 'BUNDLE_INPUT', message: /input\.shape/ });
  const o = copyBundle('ref-classifier');
  const m = readManifest(o);
  m.outputs = m.outputs.filter((x: { name: string }) => x.name !== 'attention');
  writeManifest(o, m);
  await t.rejects(open(o), { code: 'BUNDLE_OUTPUT', message: /"attention"/ });
  const w = copyBundle('ref-segmenter');
  const ms = readManifest(w);
  ms.outputs[0].shape = [1, 2, 64, 64];
  writeManifest(w, ms);
  await t.rejects(open(w), { code: 'BUNDLE_OUTPUT', message: /output "logits" has shape/ });
});

t.test('reference bundles are reproducible: same seed, same sha256', async (t) => {
  const [a, b] = [tempDir(), tempDir()];
  const ma = await buildReferenceBundles(a);
  const mb = await buildReferenceBundles(b);
  t.same(
    ma.map((m) => m.onnx.sha256),
    mb.map((m) => m.onnx.sha256),
  );
});

t.test('lumen models verify reports each bundle with its code', async (t) => {
  const bad = copyBundle('ref-segmenter');
  truncateSync(join(bad, 'model.onnx'), 10);
  const c = lumen(['models', 'verify', 'ref-classifier', bad]);
  const e = await c.exited;
  t.equal(e.code, 2);
  t.match(c.stdout(), /OK {3}ref-classifier/);
  t.match(c.stdout(), /FAIL .*BUNDLE_HASH/);
});

t.test('lumen models inspect prints the GAIN-ResNet-50 figures', async (t) => {
  const c = lumen(['models', 'inspect', 'gain-resnet50']);
  await c.exited;
  t.match(c.stdout(), /params\s+23,512,130/);
  t.match(c.stdout(), /MACs\s+4,087,240,704/);
  t.match(c.stdout(), /output\s+attention\s+float32 \[1, 1, 7, 7\]/);
});
