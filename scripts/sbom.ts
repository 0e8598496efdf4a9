/**
 * Software bill of materials (CycloneDX 1.5 JSON): npm's own `npm sbom` for the runtime's
 * production dependencies, plus what npm cannot see: the system packages the appliance runs on
 * (GStreamer and its plugins, Node.js, the OS) and the model bundles, each with version and purl.
 *
 *   npm run sbom [-- --out FILE] [--models DIR] [--project DIR]
 *   (defaults: dist/sbom.cdx.json, models/, this source tree; the package build names its tree)
 *
 * Exits 1 if npm or GStreamer cannot be found: an SBOM missing a part must not look complete.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../runtime/config/paths.js';

const run = promisify(execFile);

/** Debian packages the runtime needs at run time (scripts/setup.sh installs their -dev forms). */
const SYSTEM_PACKAGES = [
  'libgstreamer1.0-0',
  'libgstreamer-plugins-base1.0-0',
  'gstreamer1.0-plugins-base',
  'gstreamer1.0-plugins-good',
  'gstreamer1.0-tools',
  'nodejs',
];
/** Listed when installed: Jetson multimedia (L4T) and capture tools. */
const OPTIONAL_PACKAGES = ['nvidia-l4t-gstreamer', 'nvidia-l4t-multimedia', 'nvidia-l4t-cuda', 'v4l-utils', 'gstreamer1.0-plugins-bad', 'gstreamer1.0-libav'];

interface Component {
  'bom-ref': string;
  type: string;
  name: string;
  version: string;
  purl?: string;
  description?: string;
  hashes?: { alg: string; content: string }[];
  properties?: { name: string; value: string }[];
  pedigree?: { patches: { type: string; diff: { text: { contentType: string; content: string } } }[] };
}

interface Bom {
  metadata: { component: { name: string; version: string; 'bom-ref': string } };
  components: Component[];
  dependencies?: { ref: string; dependsOn?: string[] }[];
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function osRelease(): { id: string; versionId: string; pretty: string } {
  try {
    const kv = Object.fromEntries(
      readFileSync('/etc/os-release', 'utf8')
        .split('\n')
        .map((l) => /^(\w+)=(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], m[2].replace(/^"|"$/g, '')]),
    );
    return { id: kv.ID ?? 'linux', versionId: kv.VERSION_ID ?? '', pretty: kv.PRETTY_NAME ?? 'Linux' };
  } catch {
    // No /etc/os-release (a minimal container): a generic Linux is all that can be said.
    return { id: 'linux', versionId: '', pretty: 'Linux' };
  }
}

/** Installed Debian packages among `names`, with version and architecture. */
async function debPackages(names: string[]): Promise<Map<string, { version: string; arch: string }>> {
  const out = new Map<string, { version: string; arch: string }>();
  let stdout = '';
  try {
    ({ stdout } = await run('dpkg-query', ['-W', '-f=${Package} ${Version} ${Architecture} ${db:Status-Abbrev}\\n', ...names]));
  } catch (err) {
    // dpkg-query exits 1 when some names are unknown but still prints the others.
    stdout = (err as { stdout?: string }).stdout ?? '';
  }
  for (const line of stdout.split('\n')) {
    const [name, version, arch, status] = line.trim().split(/\s+/);
    if (name && status?.startsWith('ii')) out.set(name, { version, arch });
  }
  return out;
}

function debComponent(name: string, p: { version: string; arch: string }, os: { id: string; versionId: string }): Component {
  const purl = `pkg:deb/${os.id}/${name}@${encodeURIComponent(p.version)}?arch=${p.arch}${os.versionId ? `&distro=${os.id}-${os.versionId}` : ''}`;
  return {
    'bom-ref': purl,
    type: name === 'nodejs' ? 'application' : 'library',
    name,
    version: p.version,
    purl,
    properties: [{ name: 'lumen:source', value: 'system package (dpkg)' }],
  };
}

/** GStreamer from gst-inspect when it is not a Debian package (a Yocto or JetPack image). */
async function gstreamerFromTool(): Promise<Component | null> {
  try {
    const { stdout } = await run('gst-inspect-1.0', ['--version']);
    const v = /GStreamer (\d+\.\d+\.\d+)/.exec(stdout)?.[1];
    return v
      ? {
          'bom-ref': `pkg:generic/gstreamer@${v}`,
          type: 'library',
          name: 'gstreamer',
          version: v,
          purl: `pkg:generic/gstreamer@${v}`,
          properties: [{ name: 'lumen:source', value: 'gst-inspect-1.0 --version' }],
        }
      : null;
  } catch {
    // No gst-inspect-1.0: the SBOM leaves GStreamer out rather than guess its version.
    return null;
  }
}

/** Model bundles: id, version and the sha256 of the ONNX file their manifest pins. */
function modelComponents(dir: string): Component[] {
  if (!existsSync(dir)) return [];
  const out: Component[] = [];
  for (const id of readdirSync(dir).sort()) {
    const path = join(dir, id, 'manifest.json');
    if (!existsSync(path)) continue;
    const m = JSON.parse(readFileSync(path, 'utf8')) as { id: string; version: string; task: string; onnx?: { sha256?: string }; clinical?: boolean };
    out.push({
      'bom-ref': `model:${m.id}@${m.version}`,
      type: 'machine-learning-model',
      name: m.id,
      version: m.version,
      description: `${m.task} model bundle${m.clinical ? '' : ' (not for clinical use)'}`,
      ...(m.onnx?.sha256 ? { hashes: [{ alg: 'SHA-256', content: m.onnx.sha256 }] } : {}),
    });
  }
  return out;
}

async function main(): Promise<void> {
  const project = arg('--project', PROJECT_ROOT);
  const outPath = arg('--out', join(project, 'dist', 'sbom.cdx.json'));
  const modelsDir = arg('--models', join(project, 'models'));
  let npmOut: string;
  try {
    ({ stdout: npmOut } = await run('npm', ['sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev'], { cwd: project, maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    throw new Error(`npm sbom failed: ${(err as { stderr?: string }).stderr?.trim() || String(err)}`);
  }
  const bom = JSON.parse(npmOut) as Bom;
  const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { name: string; version: string };
  // npm names the root after the folder it ran in; the product is the package.
  bom.metadata.component.name = pkg.name;

  // The fixes the postinstall script applies to dependencies (scripts/patches/NAME+VERSION.patch).
  const patches = join(project, 'scripts', 'patches');
  for (const c of bom.components) {
    const file = join(patches, `${c.name.replace('/', '+')}+${c.version}.patch`);
    if (!existsSync(file)) continue;
    c.pedigree = { patches: [{ type: 'unofficial', diff: { text: { contentType: 'text/x-diff', content: readFileSync(file, 'utf8') } } }] };
  }

  const os = osRelease();
  const debs = await debPackages([...SYSTEM_PACKAGES, ...OPTIONAL_PACKAGES]);
  const system: Component[] = [...debs].map(([name, p]) => debComponent(name, p, os));
  if (![...debs.keys()].some((n) => n.includes('gstreamer'))) {
    const gst = await gstreamerFromTool();
    if (!gst) throw new Error('GStreamer not found (neither a Debian package nor gst-inspect-1.0): the SBOM would be incomplete');
    system.push(gst);
  }
  if (!debs.has('nodejs')) {
    const v = process.versions.node;
    system.push({
      'bom-ref': `pkg:generic/nodejs@${v}`,
      type: 'application',
      name: 'nodejs',
      version: v,
      purl: `pkg:generic/nodejs@${v}`,
      properties: [{ name: 'lumen:source', value: 'running node' }],
    });
  }
  system.push({ 'bom-ref': `os:${os.id}@${os.versionId}`, type: 'operating-system', name: os.id, version: os.versionId, description: os.pretty });
  const models = modelComponents(modelsDir);

  bom.components.push(...system, ...models);
  const root = bom.metadata.component['bom-ref'];
  const deps = (bom.dependencies ??= []);
  const rootDeps = deps.find((d) => d.ref === root) ?? deps[deps.push({ ref: root, dependsOn: [] }) - 1];
  rootDeps.dependsOn = [...(rootDeps.dependsOn ?? []), ...system.map((c) => c['bom-ref']), ...models.map((c) => c['bom-ref'])];

  await mkdir(dirname(outPath), { recursive: true });
  await writeFile(outPath, JSON.stringify(bom, null, 2) + '\n');
  const npmCount = bom.components.length - system.length - models.length;
  process.stdout.write(
    `sbom: ${outPath}: ${bom.components.length} components (${npmCount} npm, ${system.length} system, ${models.length} models), CycloneDX ${(bom as unknown as { specVersion: string }).specVersion}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`sbom: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
