import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { MODELS_DIR } from '../config/paths.js';
import { LumenError } from '../errors.js';
import { loadBundle } from '../models/bundle-load.js';
import { generateSigningKeys, signManifest } from '../models/bundle-sign.js';
import { buildReferenceBundles } from '../models/reference/build-reference.js';

export function registerModels(program: Command): void {
  const models = program.command('models').description('model bundles: build, inspect, sign, verify');
  models
    .command('build')
    .description('build the bundled models (reference models; deterministic per seed)')
    .option('--dir <dir>', 'bundle root', MODELS_DIR)
    .action(async (o: { dir: string }) => {
      for (const m of await buildReferenceBundles(o.dir)) process.stdout.write(`${m.id} ${m.version} sha256 ${m.onnx.sha256}\n`);
    });
  models
    .command('verify <bundle...>')
    .description('check manifests, hashes and (with --key) signatures')
    .option('--key <pem...>', 'trusted public keys; makes a signature required')
    .action(async (dirs: string[], o: { key?: string[] }) => {
      const trustedKeys = await Promise.all((o.key ?? []).map((k) => readFile(k, 'utf8')));
      let failed = 0;
      for (const d of dirs) {
        try {
          const b = await loadBundle(resolveBundle(d), { requireSignature: trustedKeys.length > 0, trustedKeys });
          process.stdout.write(`OK   ${b.manifest.id} ${b.manifest.version}${b.manifest.signature ? ' (signed)' : ''}\n`);
        } catch (err) {
          if (!(err instanceof LumenError)) throw err;
          failed++;
          process.stdout.write(`FAIL ${d}: ${err.code}: ${err.message}\n`);
        }
      }
      process.exitCode = failed ? 2 : 0;
    });
  models
    .command('sign <bundle>')
    .description('sign a bundle manifest with an ed25519 private key (PEM)')
    .requiredOption('--key <pem>', 'private key')
    .action(async (d: string, o: { key: string }) => {
      const dir = resolveBundle(d);
      const b = await loadBundle(dir);
      const signed = signManifest(b.manifest, await readFile(o.key, 'utf8'));
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
