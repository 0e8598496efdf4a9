import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, readdirSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../runtime/config/load.js';
import { ROOT, tempDir } from './helpers/daemon.js';

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

/** The reference bundles only: the architecture bundles are large and would fail the demo selftest. */
function referenceModels(): string {
  const dir = tempDir('lumen-models-');
  for (const id of ['ref-classifier', 'ref-segmenter']) cpSync(join(ROOT, 'models', id), join(dir, id), { recursive: true });
  return dir;
}

const SITE = 'CAPTURE_PIPELINE=demo\nCAPTURE_PARAMS={}\nBIND_ADDRESS=127.0.0.1\nCLASSIFIER=ref-classifier\nSEGMENTER=ref-segmenter\n';

t.test('--dry-run prints every step and writes nothing', async (t) => {
  const root = tempDir('lumen-root-');
  const r = await provision(['--dry-run', '--root', root, '--no-apt', '--no-systemctl']);
  t.equal(r.code, 0, r.stderr);
  for (const step of ['runtime files', 'model bundles', 'config', 'doctor', 'selftest', 'systemd units', 'switch']) t.match(r.stderr, `[${step}]`);
  t.match(r.stdout, /would point .*current at releases\//);
  t.same(readdirSync(root), [], 'nothing written');
});

t.test('a real install into a throwaway root, then a failed update that leaves it in place', async (t) => {
  const root = tempDir('lumen-root-');
  const site = join(tempDir(), 'site.env');
  writeFileSync(site, SITE);
  const prefix = join(root, 'opt/lumen-edge');
  // An earlier install with two releases, the newer one running.
  for (const [id, age] of [['r0a', 7200], ['r0b', 3600]] as const) {
    mkdirSync(join(prefix, 'releases', id), { recursive: true });
    const when = Date.now() / 1000 - age;
    utimesSync(join(prefix, 'releases', id), when, when);
  }
  symlinkSync('releases/r0b', join(prefix, 'current'));
  const releases = () => readdirSync(join(prefix, 'releases')).sort();
  const first = await provision(['--root', root, '--no-apt', '--no-systemctl', '--site', site, '--models', referenceModels(), '--release-id', 'r1']);
  t.equal(first.code, 0, first.stderr.slice(-2000));
  t.equal(readlinkSync(join(prefix, 'current')), 'releases/r1', 'current points at the new release');
  t.same(releases(), ['r0b', 'r1'], 'the new release and the one before it are kept, the older one pruned');
  t.ok(existsSync(join(root, 'etc/systemd/system/lumen-edge.service')), 'unit installed');
  t.ok(existsSync(join(root, 'etc/sysusers.d/lumen.conf')), 'sysusers file installed');
  const config = await loadConfig(join(root, 'etc/lumen/config.yaml'));
  t.equal(config.inference.classifier, join(prefix, 'current/models/ref-classifier'), 'the config names the models through current');
  t.match(first.stderr, /OK {3}lesion at frames/, 'the selftest ran on the new release');
  const configBefore = readFileSync(join(root, 'etc/lumen/config.yaml'), 'utf8');

  const broken = referenceModels();
  truncateSync(join(broken, 'ref-classifier/model.onnx'), 500);
  const second = await provision(['--root', root, '--no-apt', '--no-systemctl', '--site', site, '--models', broken, '--release-id', 'r2']);
  t.not(second.code, 0, 'the update fails');
  t.match(second.stderr, /FAILED at step \[model bundles\]/, 'it names the step');
  t.match(second.stdout + second.stderr, /BUNDLE_HASH/, 'and what was wrong');
  t.equal(readlinkSync(join(prefix, 'current')), 'releases/r1', 'current still points at the previous release');
  t.equal(readFileSync(join(root, 'etc/lumen/config.yaml'), 'utf8'), configBefore, 'the config is untouched');

  const site2 = join(tempDir(), 'site.env');
  writeFileSync(site2, SITE + 'CAPTURE_DEVCE=/dev/video1\n');
  const third = await provision(['--root', root, '--no-apt', '--no-systemctl', '--site', site2, '--models', referenceModels(), '--release-id', 'r3']);
  t.not(third.code, 0);
  t.match(third.stderr, /unknown key CAPTURE_DEVCE/);
  t.equal(readlinkSync(join(prefix, 'current')), 'releases/r1');
  t.same(releases(), ['r0b', 'r1'], 'failed updates leave no half release behind to crowd out the previous one');

  // Bundles whose hashes match but whose classifier is no model: only doctor finds out.
  const junk = referenceModels();
  const onnx = Buffer.from('not an onnx model '.repeat(40));
  writeFileSync(join(junk, 'ref-classifier/model.onnx'), onnx);
  const m = JSON.parse(readFileSync(join(junk, 'ref-classifier/manifest.json'), 'utf8'));
  m.onnx.sha256 = createHash('sha256').update(onnx).digest('hex');
  writeFileSync(join(junk, 'ref-classifier/manifest.json'), JSON.stringify(m));
  const fourth = await provision(['--root', root, '--no-apt', '--no-systemctl', '--site', site, '--models', junk, '--release-id', 'r4']);
  t.not(fourth.code, 0, 'an update whose doctor fails is refused');
  t.match(fourth.stderr, /FAILED at step \[doctor\]/, 'at the doctor step');
  t.match(fourth.stderr, /FAIL providers: none of .* can run the models/, 'naming the failing check');
  t.equal(readlinkSync(join(prefix, 'current')), 'releases/r1', 'current still points at the previous release');
  t.equal(readFileSync(join(root, 'etc/lumen/config.yaml'), 'utf8'), configBefore, 'the config is untouched');
  t.same(releases(), ['r0b', 'r1']);
});
