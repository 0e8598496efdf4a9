import t from 'tap';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle } from '../runtime/models/bundle-load.js';
import { generateSigningKeys, signManifest } from '../runtime/models/bundle-sign.js';
import { writeBundle, type ManifestDraft } from '../runtime/models/bundle-write.js';
import { BUNDLE_FORMAT, TASK_CONTRACT, TASKS, type Manifest } from '../runtime/models/manifest.js';
import { tempDir } from './helpers/daemon.js';

// loadBundle checks the manifest and the file's hash; whether the bytes are a model is ONNX
// Runtime's check when a session opens (test/bundles.test.ts), so any bytes do here.
const ONNX = Buffer.from('stand-in model bytes');
const draft: ManifestDraft = {
  id: 'unit-classifier',
  version: '1.2.3',
  task: 'classify',
  description: 'manifest checks',
  clinical: false,
  input: {
    name: 'image',
    shape: [1, 3, 224, 224],
    type: 'float32',
    layout: 'NCHW',
    colorOrder: 'RGB',
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  },
  outputs: [
    { name: 'logits', shape: [1, 2], meaning: 'logits', classes: ['normal', 'egc'] },
    { name: 'attention', shape: [1, 1, 7, 7], meaning: 'attention' },
  ],
  thresholds: { suspicious: 0.5 },
};

async function bundle(): Promise<{ dir: string; manifest: Manifest }> {
  const root = tempDir('lumen-manifest-');
  const manifest = await writeBundle(root, draft, ONNX);
  return { dir: join(root, draft.id), manifest };
}
const rewrite = (dir: string, m: unknown) => writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));

/** A manifest as JSON before the schema has seen it: any field may be missing, extra or of the wrong type. */
type RawManifest = Record<string, unknown> & {
  input: Record<string, unknown>;
  outputs: Record<string, unknown>[];
  thresholds: Record<string, unknown>;
  onnx: Record<string, unknown> & { sha256: string };
};

t.test('a well-formed bundle loads with its manifest and bytes', async (t) => {
  const { dir, manifest } = await bundle();
  t.equal(manifest.format, 'lumen-bundle/1');
  t.equal(BUNDLE_FORMAT, 'lumen-bundle/1');
  const b = await loadBundle(dir);
  t.equal(b.dir, dir);
  t.same(b.manifest, manifest);
  t.same(Buffer.from(b.onnx), ONNX);
  t.same(TASKS, ['classify', 'segment']);
  t.same(TASK_CONTRACT, { classify: { outputs: ['logits', 'attention'] }, segment: { outputs: ['logits'] } });
  // Optional fields are optional; a segmenter loads too.
  const { dir: d2, manifest: m2 } = await bundle();
  rewrite(d2, { ...m2, task: 'segment', outputs: [{ name: 'logits', shape: [1, 2, 64, 64], meaning: 'logits' }], provenance: { seed: 7 } });
  t.equal((await loadBundle(d2)).manifest.task, 'segment');
});

t.test('each malformed manifest field is refused with BUNDLE_MANIFEST naming the field', async (t) => {
  const { dir, manifest } = await bundle();
  const cases: Array<[string, (m: RawManifest) => void, string]> = [
    ['format', (m) => (m.format = 'lumen-bundle/2'), 'format'],
    ['id upper-case', (m) => (m.id = 'Unit'), 'id: lower-case letters, digits, dot, dash, underscore'],
    ['id leading dash', (m) => (m.id = '-unit'), 'id'],
    ['id with a slash', (m) => (m.id = 'a/b'), 'id'],
    ['empty version', (m) => (m.version = ''), 'version'],
    ['task not a string', (m) => (m.task = 3), 'task'],
    ['description missing', (m) => delete m.description, 'description'],
    ['clinical not boolean', (m) => (m.clinical = 'no'), 'clinical'],
    ['input name empty', (m) => (m.input.name = ''), 'input.name'],
    ['input shape empty', (m) => (m.input.shape = []), 'input.shape'],
    ['input shape zero', (m) => (m.input.shape = [1, 3, 0, 224]), 'input.shape.2'],
    ['input shape fraction', (m) => (m.input.shape = [1, 3, 2.5, 224]), 'input.shape.2'],
    ['input type', (m) => (m.input.type = 'uint8'), 'input.type'],
    ['input layout', (m) => (m.input.layout = 'NHWC'), 'input.layout'],
    ['colour order', (m) => (m.input.colorOrder = 'RGBA'), 'input.colorOrder'],
    ['scale zero', (m) => (m.input.scale = 0), 'input.scale'],
    ['mean of two', (m) => (m.input.mean = [0, 0]), 'input.mean'],
    ['std zero', (m) => (m.input.std = [0.2, 0, 0.2]), 'input.std: std must be positive'],
    ['std negative', (m) => (m.input.std = [0.2, 0.2, -1]), 'input.std'],
    ['unknown input key', (m) => (m.input.extra = 1), 'input'],
    ['no outputs', (m) => (m.outputs = []), 'outputs'],
    ['output name empty', (m) => (m.outputs[0].name = ''), 'outputs.0.name'],
    ['output meaning empty', (m) => (m.outputs[1].meaning = ''), 'outputs.1.meaning'],
    ['output shape empty', (m) => (m.outputs[0].shape = []), 'outputs.0.shape'],
    ['empty class name', (m) => (m.outputs[0].classes = ['normal', '']), 'outputs.0.classes.1'],
    ['threshold above 1', (m) => (m.thresholds.suspicious = 1.5), 'thresholds.suspicious'],
    ['threshold below 0', (m) => (m.thresholds.suspicious = -0.1), 'thresholds.suspicious'],
    ['onnx file empty', (m) => (m.onnx.file = ''), 'onnx.file'],
    ['sha256 not hex', (m) => (m.onnx.sha256 = 'Z'.repeat(64)), 'onnx.sha256'],
    ['sha256 short', (m) => (m.onnx.sha256 = m.onnx.sha256.slice(1)), 'onnx.sha256'],
    ['sha256 long', (m) => (m.onnx.sha256 += '0'), 'onnx.sha256'],
    ['signature alg', (m) => (m.signature = { alg: 'rsa', keyId: 'a'.repeat(64), value: 'x' }), 'signature.alg'],
    ['signature keyId', (m) => (m.signature = { alg: 'ed25519', keyId: 'a'.repeat(63), value: 'x' }), 'signature.keyId'],
    ['signature keyId too long', (m) => (m.signature = { alg: 'ed25519', keyId: 'a'.repeat(65), value: 'x' }), 'signature.keyId'],
    ['signature keyId prefix', (m) => (m.signature = { alg: 'ed25519', keyId: `x${'a'.repeat(64)}`, value: 'x' }), 'signature.keyId'],
    ['signature value empty', (m) => (m.signature = { alg: 'ed25519', keyId: 'a'.repeat(64), value: '' }), 'signature.value'],
    ['unknown top-level key', (m) => (m.notes = 'x'), '(root)'],
  ];
  for (const [what, edit, field] of cases) {
    const m: RawManifest = structuredClone(manifest);
    edit(m);
    rewrite(dir, m);
    const [path, text] = field.split(': ');
    await t.rejects(loadBundle(dir), { code: 'BUNDLE_MANIFEST', message: `field ${path}: ${text ?? ''}`, detail: { field: path } }, what);
  }
});

t.test('manifest, task, file and hash each refused with their own code', async (t) => {
  const { dir, manifest } = await bundle();
  const manifestPath = join(dir, 'manifest.json');
  rewrite(dir, { ...manifest, task: 'detect' });
  await t.rejects(loadBundle(dir), {
    code: 'BUNDLE_TASK',
    message: `${manifestPath}: field task: "detect" is not one of classify, segment`,
    detail: { field: 'task' },
  });
  writeFileSync(manifestPath, '{ "id": ');
  await t.rejects(loadBundle(dir), { code: 'BUNDLE_MANIFEST', message: new RegExp(`^${manifestPath}: not valid JSON \\(`), detail: { file: manifestPath } });
  rewrite(dir, manifest);
  rmSync(join(dir, 'model.onnx'));
  await t.rejects(loadBundle(dir), {
    code: 'BUNDLE_MISSING',
    message: `${join(dir, 'model.onnx')}: the ONNX file named by onnx.file is missing`,
    detail: { field: 'onnx.file' },
  });
  writeFileSync(join(dir, 'model.onnx'), Buffer.concat([ONNX, Buffer.from('!')]));
  await t.rejects(loadBundle(dir), {
    code: 'BUNDLE_HASH',
    message: /model\.onnx: sha256 [0-9a-f]{16}… differs from onnx\.sha256 [0-9a-f]{16}… in .*manifest\.json$/,
    detail: { field: 'onnx.sha256' },
  });
  const empty = tempDir('lumen-manifest-');
  await t.rejects(loadBundle(empty), {
    code: 'BUNDLE_MISSING',
    message: `${join(empty, 'manifest.json')}: no manifest`,
    detail: { file: join(empty, 'manifest.json') },
  });
  mkdirSync(join(empty, 'manifest.json'));
  await t.rejects(loadBundle(empty), { code: 'BUNDLE_MISSING' }, 'an unreadable manifest is a missing one');
});

t.test('signatures: required, checked against configured keys, informational without keys', async (t) => {
  const keys = generateSigningKeys();
  const other = generateSigningKeys();
  const { dir, manifest } = await bundle();
  const required = { requireSignature: true, trustedKeys: [keys.publicPem] };
  await t.rejects(loadBundle(dir, required), {
    code: 'BUNDLE_SIGNATURE',
    message: /manifest\.json: the manifest has no signature$/,
    detail: { field: 'signature' },
  });
  await t.rejects(loadBundle(dir, { requireSignature: true, trustedKeys: [] }), { code: 'BUNDLE_SIGNATURE' }, 'required with no key configured');
  t.ok(await loadBundle(dir, { requireSignature: false, trustedKeys: [keys.publicPem] }), 'unsigned is fine when not required');
  const signed = signManifest(manifest, keys.privatePem);
  rewrite(dir, signed);
  t.same((await loadBundle(dir, required)).manifest.signature, signed.signature, 'signed by a trusted key');
  t.ok(await loadBundle(dir, { requireSignature: false, trustedKeys: [keys.publicPem, other.publicPem] }), 'one trusted key among several');
  await t.rejects(
    loadBundle(dir, { requireSignature: false, trustedKeys: [other.publicPem] }),
    { code: 'BUNDLE_SIGNATURE', message: /is not a trusted key/ },
    'a signature is checked whenever keys are configured',
  );
  t.ok(await loadBundle(dir), 'without keys a signature is informational');
  rewrite(dir, { ...signed, thresholds: { suspicious: 0.01 } });
  await t.rejects(loadBundle(dir, required), { code: 'BUNDLE_SIGNATURE', message: /does not verify/ });
  t.ok(await loadBundle(dir), 'and an altered one loads where no signature is asked for');
});
