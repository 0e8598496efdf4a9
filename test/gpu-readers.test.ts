import t from 'tap';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath, GpuReadError, parseNvidiaSmi, parseTegrastatsLine, readGpu } from '../runtime/health/gpu-readers.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/health');
const lines = (file: string): string[] => readFileSync(join(fixtures, file), 'utf8').split('\n').filter(Boolean);

t.test('tegrastats: every board generation parses to load, temperatures and memory', async (t) => {
  const cases: Array<[string, number, Record<string, unknown>]> = [
    ['tegrastats/tx1-l4t28.txt', 0, { gpuLoadPct: 3, gpuFreqMHz: 76, memUsedMB: 3468, memTotalMB: 3983, gpuTempC: null, hottestC: null }],
    ['tegrastats/tx1-l4t28.txt', 1, { gpuLoadPct: 39, gpuFreqMHz: 76 }],
    // PMIC@100C is a constant on Nano: it must not become the hottest sensor.
    ['tegrastats/nano-l4t32.txt', 0, { gpuLoadPct: 0, gpuFreqMHz: null, gpuTempC: 23.5, cpuTempC: 25, hottestC: 33.5, memUsedMB: 1766 }],
    ['tegrastats/nano-l4t32.txt', 1, { gpuLoadPct: 99, gpuFreqMHz: 921, gpuTempC: 46.5, cpuTempC: 47, hottestC: 47 }],
    ['tegrastats/tx2-l4t32.txt', 0, { gpuLoadPct: 0, gpuTempC: 32, cpuTempC: 35.5, hottestC: 35.5, memTotalMB: 7860 }],
    ['tegrastats/xavier-nx-jp512.txt', 0, { gpuLoadPct: 0, gpuFreqMHz: 114, gpuTempC: 45.5, cpuTempC: 46.5, hottestC: 46.5 }],
    ['tegrastats/orin-nano-jp5.txt', 0, { gpuLoadPct: 1, gpuFreqMHz: null, gpuTempC: 61.687, cpuTempC: 62.843, hottestC: 62.843 }],
    ['tegrastats/orin-nano-jp6.txt', 0, { gpuLoadPct: 0, gpuFreqMHz: 305, gpuTempC: 49.625, hottestC: 49.625, memUsedMB: 1343, memTotalMB: 7620 }],
    ['tegrastats/orin-nano-jp6.txt', 1, { gpuLoadPct: 99, gpuFreqMHz: 612, gpuTempC: 58.625, cpuTempC: 57.125, hottestC: 58.625, memUsedMB: 6712 }],
    // GPU@-256C: the GPU is power-gated, so there is no GPU temperature (not a -256 °C one).
    ['tegrastats/orin-agx-jp6.txt', 0, { gpuLoadPct: 0, gpuFreqMHz: 0, gpuTempC: null, cpuTempC: 44.562, hottestC: 44.562 }],
    ['tegrastats/orin-agx-jp7.txt', 0, { gpuLoadPct: 12, gpuFreqMHz: 1300, gpuTempC: 47.625, cpuTempC: 52.968, memUsedMB: 20642 }],
    // Thor prints GPC clocks but no load: unknown, not 0 %.
    ['tegrastats/thor-jp7.txt', 0, { gpuLoadPct: null, gpuFreqMHz: 1000, memUsedMB: 4722, hottestC: null }],
  ];
  for (const [file, index, expected] of cases) {
    const reading = parseTegrastatsLine(lines(file)[index]);
    t.match(reading, { source: 'tegrastats', ...expected }, `${file}#${index}`);
  }
  const agx = parseTegrastatsLine(lines('tegrastats/orin-agx-jp6.txt')[0]);
  t.notOk('cv0' in agx.temps || 'gpu' in agx.temps, '-256 °C sensors are dropped');
  t.same(Object.keys(parseTegrastatsLine(lines('tegrastats/orin-nano-jp6.txt')[0]).temps).sort(), ['cpu', 'gpu', 'soc0', 'soc1', 'soc2', 'tj']);
  t.equal(parseTegrastatsLine(lines('tegrastats/nano-l4t32.txt')[0]).temps.pmic, 100, 'kept in temps, ignored for hottestC');
});

t.test('tegrastats: lines that are not stats are refused by code', async (t) => {
  for (const bad of ['', 'WARN: running as non-root, some stats are unavailable', 'GR3D 0W/0W VDD_IN 1/1']) {
    t.throws(() => parseTegrastatsLine(bad), { code: 'GPU_READ' }, JSON.stringify(bad));
  }
});

t.test('nvidia-smi: one reading per GPU, [N/A] as null', async (t) => {
  t.same(parseNvidiaSmi(readFileSync(join(fixtures, 'nvidia-smi/h100-idle.txt'), 'utf8')), [
    { source: 'nvidia-smi', gpuLoadPct: 0, gpuTempC: 31, gpuFreqMHz: null, memUsedMB: 1, memTotalMB: 81559, cpuTempC: null, hottestC: 31, temps: { gpu: 31 } },
  ]);
  const two = parseNvidiaSmi(readFileSync(join(fixtures, 'nvidia-smi/two-gpus.txt'), 'utf8'));
  t.same(
    two.map((r) => [r.gpuLoadPct, r.gpuTempC, r.memUsedMB]),
    [
      [87, 71, 18342],
      [3, 45, 512],
    ],
  );
  t.match(parseNvidiaSmi(readFileSync(join(fixtures, 'nvidia-smi/mig.txt'), 'utf8'))[0], { gpuLoadPct: null, gpuTempC: 38, memUsedMB: 10240 });
  t.same(parseNvidiaSmi('\n'), []);
  t.throws(() => parseNvidiaSmi('1, 2, 3'), { code: 'GPU_READ', message: /4 columns/ });
  t.throws(() => parseNvidiaSmi(readFileSync(join(fixtures, 'nvidia-smi/driver-failed.txt'), 'utf8')), GpuReadError);
  t.throws(() => parseNvidiaSmi('12, hot, 3, 4'), { code: 'GPU_READ', message: /"hot"/ });
});

/** A folder of fake tools; each is a /bin/sh script. */
function toolDir(tt: Pick<typeof t, 'teardown'>): { dir: string; tool: (name: string, body: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-gpu-tools-'));
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    tool: (name, body) => {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid a tool wrote (atomically) into `file`, once it exists; fails naming the file after `ms`. */
async function waitForPid(file: string, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for the tool to write its pid to ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Number(readFileSync(file, 'utf8'));
}

async function waitDead(pid: number, ms = 30_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

t.test('findOnPath finds executables only, and ignores relative PATH entries', async (t) => {
  const { dir, tool } = toolDir(t);
  tool('nvidia-smi', 'exit 0');
  writeFileSync(join(dir, 'tegrastats'), 'not executable');
  mkdirSync(join(dir, 'sub'));
  t.equal(await findOnPath('nvidia-smi', `/nonexistent:${dir}`), join(dir, 'nvidia-smi'));
  t.equal(await findOnPath('tegrastats', dir), null, 'not executable');
  t.equal(await findOnPath('sub', dir), null, 'a directory');
  t.equal(await findOnPath('nvidia-smi', `.:relative:`), null);
});

t.test('readGpu: null without tools, nvidia-smi first, tegrastats one line then stopped', async (t) => {
  const empty = toolDir(t);
  t.equal(await readGpu({ pathEnv: empty.dir }), null, 'no tool: null, not an error');

  const smi = toolDir(t);
  const fixture = join(fixtures, 'nvidia-smi/two-gpus.txt');
  smi.tool('nvidia-smi', `[ "$1" = "--query-gpu=utilization.gpu,temperature.gpu,memory.used,memory.total" ] || exit 2\ncat '${fixture}'`);
  t.match(await readGpu({ pathEnv: smi.dir }), { source: 'nvidia-smi', gpuLoadPct: 87, gpuTempC: 71, memTotalMB: 24564 });

  const ts = toolDir(t);
  const pidFile = join(ts.dir, 'pid');
  const line = lines('tegrastats/orin-nano-jp6.txt')[1];
  // Like the real tool: a header-less line per interval, forever, until killed.
  ts.tool('tegrastats', `[ "$1" = "--interval" ] || exit 2\necho $$ > '${pidFile}'\nwhile :; do echo '${line}'; sleep 0.05; done`);
  t.match(await readGpu({ pathEnv: ts.dir }), { source: 'tegrastats', gpuLoadPct: 99, gpuTempC: 58.625, memUsedMB: 6712 });
  t.ok(await waitDead(Number(readFileSync(pidFile, 'utf8'))), 'tegrastats is stopped after its first line');

  // An nvidia-smi that only says [N/A] (some Jetson BSPs ship one) defers to tegrastats.
  ts.tool('nvidia-smi', `echo '[N/A], [N/A], [N/A], [N/A]'`);
  t.match(await readGpu({ pathEnv: ts.dir }), { source: 'tegrastats' });
});

t.test('readGpu: a failing or hung tool is an error naming it, and a hung one is killed', async (t) => {
  const broken = toolDir(t);
  broken.tool('nvidia-smi', `cat '${join(fixtures, 'nvidia-smi/driver-failed.txt')}'\nexit 9`);
  await t.rejects(readGpu({ pathEnv: broken.dir }), { code: 'GPU_READ', message: /nvidia-smi failed: .*communicate with the NVIDIA driver/ });

  const hung = toolDir(t);
  const pidFile = join(hung.dir, 'pid');
  hung.tool('nvidia-smi', `echo $$ > '${pidFile}.new' && mv '${pidFile}.new' '${pidFile}'\nexec sleep 60`);
  // The timeout leaves a loaded machine ample time to start the tool; the test sees it hang first.
  const reading = readGpu({ pathEnv: hung.dir, timeoutMs: 5000 });
  const pid = await waitForPid(pidFile, 5000);
  t.ok(alive(pid), 'the tool runs and hangs');
  await t.rejects(reading, { code: 'GPU_READ', message: /no answer within 5000 ms/ });
  t.ok(await waitDead(pid), 'the hung tool was killed');

  const silent = toolDir(t);
  silent.tool('tegrastats', 'echo "tegrastats: permission denied" >&2\nexit 1');
  await t.rejects(readGpu({ pathEnv: silent.dir }), { code: 'GPU_READ', message: /tegrastats ended without a stats line: tegrastats: permission denied/ });
});
