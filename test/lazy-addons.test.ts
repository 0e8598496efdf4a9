import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, ROOT, tempDir, writeConfig } from './helpers/daemon.js';

// Each command loads only the native addons it needs: `lumen keys` must not wait for ONNX
// Runtime, GStreamer and libvips to load, nor fail where one of them is broken.

const ADDONS = ['onnxruntime-node', 'gstreamer-superficial', 'sharp', 'zeromq'] as const;
type Addon = (typeof ADDONS)[number];

const dir = tempDir('lumen-addons-');
const probe = join(dir, 'probe.mjs');
// Every native addon reaches the process through process.dlopen: record each file it opens.
writeFileSync(
  probe,
  `import { appendFileSync } from 'node:fs';
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  appendFileSync(process.env.LUMEN_ADDON_LOG, filename + '\\n');
  return dlopen.call(this, module, filename, ...rest);
};
`,
);

/** The package an addon file belongs to (sharp's binary is in its @img/sharp-<platform> package). */
function addonOf(file: string): string {
  const pkg = [...file.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].at(-1)?.[1] ?? file;
  return pkg.startsWith('@img/sharp-') ? 'sharp' : pkg;
}

let runs = 0;

/** Runs node with the probe preloaded; resolves with the exit code and the addons it loaded. */
async function addonsLoaded(args: string[]): Promise<{ code: number | null; loaded: Set<string>; stderr: string }> {
  const log = join(dir, `run-${++runs}.log`);
  const child = spawn(process.execPath, ['--import', pathToFileURL(probe).href, ...args], {
    cwd: ROOT,
    env: { ...process.env, LUMEN_ADDON_LOG: log, LUMEN_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const files = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  return { code, loaded: new Set(files.map(addonOf)), stderr };
}

function notLoaded(tt: Pick<typeof t, 'notOk'>, loaded: Set<string>, addons: readonly Addon[], what: string): void {
  for (const a of addons) tt.notOk(loaded.has(a), `${what} does not load ${a}`);
}

const config = writeConfig(dir, { publish: { curve: { allowListFile: join(dir, 'monitors.list') } } });

const url = (p: string) => pathToFileURL(join(ROOT, 'dist', 'runtime', p)).href;

t.test('the probe sees each addon where it is used', async (t) => {
  const r = await addonsLoaded([CLI, 'run', '--help']);
  t.equal(r.code, 0, r.stderr);
  for (const a of ['onnxruntime-node', 'gstreamer-superficial', 'zeromq']) t.ok(r.loaded.has(a), `lumen run loads ${a}`);
  // sharp is loaded on the first image encoded or decoded, by the daemon as by any command.
  const png = await addonsLoaded([
    '--input-type=module',
    '-e',
    `const { encodePng } = await import(${JSON.stringify(url('util/image-codec.js'))}); await encodePng({ width: 2, height: 2, data: new Uint8Array(16) });`,
  ]);
  t.equal(png.code, 0, png.stderr);
  t.ok(png.loaded.has('sharp'), 'encoding a PNG loads sharp');
});

t.test('commands that need no models, capture or images load none of them', async (t) => {
  const cases: { args: string[]; forbidden: readonly Addon[] }[] = [
    { args: ['watch', '--help'], forbidden: ['onnxruntime-node', 'gstreamer-superficial', 'sharp'] },
    { args: ['view', '--help'], forbidden: ['onnxruntime-node', 'gstreamer-superficial', 'sharp'] },
    { args: ['keys', 'generate', '--out', join(dir, 'monitor')], forbidden: ['onnxruntime-node', 'gstreamer-superficial', 'sharp'] },
    { args: ['monitors', 'list', '--config', config], forbidden: ADDONS },
    { args: ['clips', 'list', '--state-dir', dir], forbidden: ADDONS },
    { args: ['calibrate', '--help'], forbidden: ['onnxruntime-node', 'gstreamer-superficial', 'zeromq', 'sharp'] },
  ];
  for (const c of cases) {
    const r = await addonsLoaded([CLI, ...c.args]);
    t.equal(r.code, 0, `lumen ${c.args.join(' ')}: exit 0 ${r.stderr}`);
    notLoaded(t, r.loaded, c.forbidden, `lumen ${c.args.join(' ')}`);
  }
});

t.test('validating a config does not load ONNX Runtime; opening a session does', async (t) => {
  const validate = await addonsLoaded([
    '--input-type=module',
    '-e',
    `const { loadConfig } = await import(${JSON.stringify(url('config/load.js'))}); await loadConfig(${JSON.stringify(config)});`,
  ]);
  t.equal(validate.code, 0, validate.stderr);
  notLoaded(t, validate.loaded, ADDONS, 'loadConfig');
  const ort = await addonsLoaded(['--input-type=module', '-e', `await import(${JSON.stringify(url('inference/ort.js'))});`]);
  t.equal(ort.code, 0, ort.stderr);
  t.ok(ort.loaded.has('onnxruntime-node'), 'inference/ort.js loads onnxruntime-node');
});
