import t from 'tap';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../runtime/config/load.js';
import { ROOT, tempDir } from './helpers/daemon.js';

// The full provision (build, checks, dpkg install, rollback) runs in a throwaway Debian root in
// `npm run test:package` (test/slow/deb-package.check.ts); here: what is decided before any package.

function provision(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const p = spawn('bash', [join(ROOT, 'scripts/provision.sh'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const SITE = 'CAPTURE_PIPELINE=demo\nCAPTURE_PARAMS={}\nBIND_ADDRESS=127.0.0.1\nCLASSIFIER=ref-classifier\nSEGMENTER=ref-segmenter\n';

t.test('--dry-run prints every step and writes nothing', async (t) => {
  const root = tempDir('lumen-root-');
  const site = join(tempDir(), 'site.env');
  writeFileSync(site, SITE);
  const r = await provision(['--dry-run', '--root', root, '--site', site, '--no-systemctl']);
  t.equal(r.code, 0, r.stderr);
  for (const step of ['site', 'package', 'model bundles', 'config', 'doctor', 'selftest', 'install', 'takeover']) t.match(r.stderr, `[${step}]`);
  t.match(r.stdout, /would build the package with scripts\/package\.sh/);
  t.match(r.stdout, /pipeline: demo/, 'the config it would write carries the site values');
  t.same(readdirSync(root), [], 'nothing written');
});

t.test('the config it writes is one the daemon accepts, CURVE on with the key the package makes', async (t) => {
  const site = join(tempDir(), 'site.env');
  writeFileSync(site, SITE);
  const r = await provision(['--dry-run', '--root', tempDir('lumen-root-'), '--site', site, '--no-systemctl']);
  t.equal(r.code, 0, r.stderr);
  const yaml = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('    '))
    .map((l) => l.slice(4))
    .join('\n');
  // Every @KEY@ of scripts/config.template.yaml needs a value: one left over is invalid YAML.
  t.notMatch(yaml, /@[A-Z_]+@/, 'no placeholder left');
  const config = parseConfig(parseYaml(yaml), 'provisioned config');
  t.match(config.publish, { curve: { enabled: true, keyFile: '/etc/lumen/keys/daemon.key', allowListFile: '/etc/lumen/monitors.list' }, insecure: false });
});

t.test('an unknown site key is refused before anything is built or installed', async (t) => {
  const root = tempDir('lumen-root-');
  const site = join(tempDir(), 'site.env');
  writeFileSync(site, SITE + 'CAPTURE_DEVCE=/dev/video1\n');
  const r = await provision(['--root', root, '--site', site, '--no-systemctl']);
  t.equal(r.code, 2, 'refused input: exit 2');
  t.match(r.stderr, /unknown key CAPTURE_DEVCE/);
  t.match(r.stderr, /FAILED at step \[site\]/);
  t.notMatch(r.stderr, /\[package\]/, 'no package was built');
  t.same(readdirSync(root), [], 'nothing written');
});

t.test('npm run package on an unbuilt tree refuses with what is missing', async (t) => {
  const tree = tempDir('lumen-unbuilt-');
  const { cpSync } = await import('node:fs');
  for (const f of ['package.json', 'scripts/package.sh', 'scripts/package-shlibdeps.sh', 'packaging'])
    cpSync(join(ROOT, f), join(tree, f), { recursive: true });
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const p = spawn('bash', [join(tree, 'scripts/package.sh'), '--out', join(tree, 'out')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => resolve({ code, err }));
  });
  t.equal(r.code, 2);
  t.match(r.err, /PACKAGE_UNBUILT/);
  for (const what of ['node_modules/.package-lock.json', 'gstreamer-superficial.node', 'models/ref-classifier/manifest.json', 'var/feeds/demo.mkv'])
    t.match(r.err, what, `names ${what}`);
  t.same(readdirSync(tree).sort(), ['package.json', 'packaging', 'scripts'], 'nothing built');
});
