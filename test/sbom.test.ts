import t from 'tap';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/daemon.js';

interface Component {
  type: string;
  name: string;
  version: string;
  purl?: string;
  hashes?: { alg: string; content: string }[];
  pedigree?: { patches: { type: string; diff: { text: { content: string } } }[] };
}

t.test('npm run sbom writes a CycloneDX JSON naming the npm runtime dependencies, GStreamer, Node.js and the models', async (t) => {
  const out = join(tempDir(), 'sbom.cdx.json');
  const p = spawn(process.execPath, [join(ROOT, 'dist/scripts/sbom.js'), '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => p.on('exit', resolve));
  t.equal(code, 0, stderr);
  const bom = JSON.parse(readFileSync(out, 'utf8')) as {
    bomFormat: string;
    specVersion: string;
    metadata: { component: { name: string } };
    components: Component[];
    dependencies: { ref: string; dependsOn?: string[] }[];
  };
  t.equal(bom.bomFormat, 'CycloneDX');
  t.match(bom.specVersion, /^1\.\d+$/);
  t.equal(bom.metadata.component.name, 'lumen-edge', 'the root is the product');
  const byName = (n: string) => bom.components.find((c) => c.name === n);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  for (const n of ['onnxruntime-node', 'zeromq', 'gstreamer-superficial'])
    t.match(byName(n), { type: 'library', purl: new RegExp(`^pkg:npm/${n}@`) }, `${n} (npm)`);
  t.notOk(byName('typescript') ?? byName('tap'), 'development dependencies are left out');
  const patched = bom.components.filter((c) => c.pedigree);
  t.same(
    patched.map((c) => `${c.name}@${c.version}`),
    [`gstreamer-superficial@${byName('gstreamer-superficial')?.version}`],
    'the patched dependency is marked so',
  );
  t.equal(
    patched[0]?.pedigree?.patches[0]?.diff.text.content,
    readFileSync(join(ROOT, 'scripts/patches', `gstreamer-superficial+${byName('gstreamer-superficial')?.version}.patch`), 'utf8'),
    'with the patch applied',
  );
  t.ok(Object.keys(pkg.devDependencies).length > 0);
  const gst = bom.components.filter((c) => /gstreamer/.test(c.name) && !c.purl?.startsWith('pkg:npm/'));
  t.ok(gst.length >= 1, `GStreamer as a system component: ${gst.map((c) => `${c.name}@${c.version}`).join(', ')}`);
  t.ok(
    gst.every((c) => /^pkg:(deb|generic)\//.test(c.purl ?? '') && /^\d/.test(c.version)),
    'with a version and a system purl',
  );
  const node = byName('nodejs');
  t.ok(node, 'Node.js as a component');
  t.match(node?.version, /^\d+\.\d+/);
  const models = bom.components.filter((c) => c.type === 'machine-learning-model');
  t.ok(
    models.some((m) => m.name === 'ref-classifier' && /^[0-9a-f]{64}$/.test(m.hashes?.[0]?.content ?? '')),
    'model bundles with their sha256',
  );
  const root = bom.dependencies.find((d) => d.ref === (bom.metadata.component as unknown as { 'bom-ref': string })['bom-ref']);
  t.ok(
    root?.dependsOn?.some((r) => gst.some((g) => (g as unknown as { 'bom-ref': string })['bom-ref'] === r)),
    'the product depends on GStreamer in the graph',
  );
  t.match(stdout, new RegExp(`${bom.components.length} components`), 'the count printed is the count written');
});

t.test('the binding patch changes sources only: build outputs differ from machine to machine and would not apply', async (t) => {
  const dir = join(ROOT, 'scripts/patches');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.patch'))
    .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/^diff --git a\/node_modules\/[^/]+\/(\S+)/gm)].map((m) => m[1]));
  t.ok(files.length > 0, `the patches touch ${files.join(', ')}`);
  t.same(
    files.filter((f) => !/\.(cpp|h|cc|js|gyp)$/.test(f) || f.startsWith('build/')),
    [],
    'no build output or binary in any patch',
  );
});
