import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { MODELS_DIR } from '../config/paths.js';
import { LumenError, messageOf } from '../errors.js';
import { loadBundle } from '../models/bundle-load.js';
import { generateSigningKeys, signManifest } from '../models/bundle-sign.js';
import { buildReferenceBundles } from '../models/reference/build-reference.js';
import { buildArchitectureBundles } from '../models/arch/build-architectures.js';
import { importBundle, NORMALISATIONS } from '../models/bundle-import.js';
import { formatInspection, inspectOnnx } from '../models/inspect.js';
import { ModelSession } from '../inference/model-session.js';
import { parseConfig } from '../config/load.js';
import { sessionOptions } from '../pipeline/sessions.js';
import { createLogger } from '../log.js';

export function registerModels(program: Command): void {
  const models = program.command('models').description('model bundles: build, inspect, sign, verify');
  models
    .command('build')
    .description('build the bundled models: reference models and the seeded GAIN-ResNet-50 / CA-U-Net (deterministic per seed)')
    .option('--dir <dir>', 'bundle root', MODELS_DIR)
    .option('--only <set>', 'reference | architectures')
    .option('--seed <n>', 'seed of the architecture weights', '1')
    .action(async (o: { dir: string; only?: string; seed: string }) => {
      if (o.only && o.only !== 'reference' && o.only !== 'architectures')
        throw new LumenError('USAGE', `--only ${o.only}: expected reference or architectures`);
      const built = [
        ...(o.only !== 'architectures' ? await buildReferenceBundles(o.dir) : []),
        ...(o.only !== 'reference' ? await buildArchitectureBundles(o.dir, Number(o.seed)) : []),
      ];
      for (const m of built) process.stdout.write(`${m.id} ${m.version} sha256 ${m.onnx.sha256}\n`);
    });
  models
    .command('inspect <bundle>')
    .description('inputs, outputs, parameter count and multiply-accumulates per frame')
    .option('--json', 'machine-readable output: the bundle and the inspection')
    .action(async (d: string, o: { json?: boolean }) => {
      const b = await loadBundle(resolveBundle(d));
      const r = inspectOnnx(b.onnx);
      const { id, version, task } = b.manifest;
      process.stdout.write(
        o.json ? JSON.stringify({ bundle: { id, version, task }, ...r }, null, 2) + '\n' : formatInspection(r, `${id} ${version} (${task})`) + '\n',
      );
    });
  models
    .command('import <file>')
    .description('wrap an ONNX model exported elsewhere into a bundle, after checking the task contract')
    .requiredOption('--task <task>', 'classify | segment')
    .requiredOption('--id <id>', 'bundle id (folder name)')
    .option('--version <v>', 'bundle version', '1.0.0')
    .option('--norm <name>', `input normalisation: ${Object.keys(NORMALISATIONS).join(' | ')}`, 'imagenet')
    .option('--bgr', 'the model takes BGR channel order')
    .option('--dir <dir>', 'bundle root', MODELS_DIR)
    .action(async (file: string, o: { task: string; id: string; version: string; norm: string; bgr?: boolean; dir: string }) => {
      if (o.task !== 'classify' && o.task !== 'segment') throw new LumenError('BUNDLE_TASK', `--task ${o.task}: expected classify or segment`);
      if (!(o.norm in NORMALISATIONS)) throw new LumenError('USAGE', `--norm ${o.norm}: expected ${Object.keys(NORMALISATIONS).join(', ')}`);
      const m = await importBundle({ file, task: o.task, id: o.id, version: o.version, root: o.dir, normalisation: o.norm, colorOrder: o.bgr ? 'BGR' : 'RGB' });
      // A real session checks what static inspection cannot (operators, types): refuse it now, not at the bedside.
      const opts = { ...(await sessionOptions(parseConfig({}))), providers: ['cpu' as const] };
      const s = await ModelSession.open(join(o.dir, m.id), opts, createLogger('lumen', 'warn'));
      await s.close();
      process.stdout.write(`imported ${m.id} ${m.version} (${m.task}) sha256 ${m.onnx.sha256}\n`);
    });
  models
    .command('verify <bundle...>')
    .description('check manifests, hashes and (with --key) signatures')
    .option('--key <pem...>', 'trusted public keys; makes a signature required')
    .option('--json', 'machine-readable output: { ok, bundles: [{ path, ok, id, version, signed } or { path, ok, code, message }] }')
    .action(async (dirs: string[], o: { key?: string[]; json?: boolean }) => {
      const trustedKeys = await Promise.all((o.key ?? []).map((k) => readFile(k, 'utf8')));
      const results: Record<string, unknown>[] = [];
      for (const d of dirs) {
        try {
          const b = await loadBundle(resolveBundle(d), { requireSignature: trustedKeys.length > 0, trustedKeys });
          results.push({
            path: d,
            ok: true,
            id: b.manifest.id,
            version: b.manifest.version,
            sha256: b.manifest.onnx.sha256,
            signed: Boolean(b.manifest.signature),
          });
          if (!o.json) process.stdout.write(`OK   ${b.manifest.id} ${b.manifest.version}${b.manifest.signature ? ' (signed)' : ''}\n`);
        } catch (err) {
          if (!(err instanceof LumenError)) throw err;
          results.push({ path: d, ok: false, code: err.code, message: err.message });
          if (!o.json) process.stdout.write(`FAIL ${d}: ${err.code}: ${err.message}\n`);
        }
      }
      const failed = results.filter((r) => !r.ok).length;
      if (o.json) process.stdout.write(JSON.stringify({ ok: failed === 0, bundles: results }, null, 2) + '\n');
      process.exitCode = failed ? 2 : 0;
    });
  models
    .command('sign <bundle>')
    .description('sign a bundle manifest with an ed25519 private key (PEM)')
    .requiredOption('--key <pem>', 'private key')
    .action(async (d: string, o: { key: string }) => {
      const dir = resolveBundle(d);
      const b = await loadBundle(dir);
      const pem = await readFile(o.key, 'utf8').catch((err: Error) => {
        throw new LumenError('CONFIG_READ', `${o.key}: cannot read the private key (${messageOf(err)})`, { file: o.key });
      });
      let signed: ReturnType<typeof signManifest>;
      try {
        signed = signManifest(b.manifest, pem);
      } catch (err) {
        throw new LumenError('CONFIG_INVALID', `${o.key}: not an ed25519 private key in PEM (${messageOf(err)})`, { file: o.key });
      }
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(signed, null, 2) + '\n');
      process.stdout.write(`signed ${b.manifest.id} with key ${signed.signature!.keyId.slice(0, 16)}…\n`);
    });
  models
    .command('keygen')
    .description('make an ed25519 key pair for signing bundles')
    .requiredOption('--out <prefix>', 'writes <prefix>.pub.pem and <prefix>.key.pem')
    .action(async (o: { out: string }) => {
      const k = generateSigningKeys();
      await writeFile(`${o.out}.pub.pem`, k.publicPem);
      await writeFile(`${o.out}.key.pem`, k.privatePem, { mode: 0o600 });
      process.stdout.write(`${o.out}.pub.pem\n${o.out}.key.pem\n`);
    });
}

/** A bundle given by id (a folder under models/) or by path. */
export function resolveBundle(idOrPath: string): string {
  return /^[a-z0-9][a-z0-9._-]*$/.test(idOrPath) ? join(MODELS_DIR, idOrPath) : idOrPath;
}
