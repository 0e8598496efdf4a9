import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GpuReadError, parseTegrastatsLine, type GpuReading } from '../runtime/health/gpu-readers.js';
import { HealthSampler, readThermalZones } from '../runtime/health/health-sampler.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/health');
const orinBusy = parseTegrastatsLine(readFileSync(join(fixtures, 'tegrastats/orin-nano-jp6.txt'), 'utf8').split('\n')[1]);

t.test('thermal zones: normalised names, gated and failing sensors left out', async (t) => {
  t.same(await readThermalZones(join(fixtures, 'sys-orin')), { cpu: 45.5, gpu: 44.406, soc0: 43.843, soc1: 44, soc2: 44.125, tj: 45.5 });
  t.same(await readThermalZones(join(fixtures, 'sys-nano')), {
    ao: 33.5,
    cpu: 25,
    gpu: 23.5,
    pll: 21,
    'pmic-die': 100,
    'thermal-fan-est': 24.5,
  });
  t.same(await readThermalZones('/nonexistent'), {}, 'no sysfs: no temperatures, no throw');
});

t.test('a sample: load, memory, temperatures, GPU, disks, and what failed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-health-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let gpuReads = 0;
  const sampler = await HealthSampler.create({
    sysRoot: join(fixtures, 'sys-nano'),
    diskPaths: [dir, join(dir, 'missing')],
    gpuMaxAgeMs: 60_000,
    readGpu: async () => {
      gpuReads++;
      return orinBusy;
    },
  });
  t.teardown(() => sampler.close());
  const r = await sampler.sample();
  t.ok(r.cpuLoadPct >= 0 && r.cpuLoadPct <= 100, `cpu ${r.cpuLoadPct}`);
  t.ok(Math.abs(r.memTotalMB - totalmem() / 2 ** 20) < 1, 'memory total matches the kernel');
  t.ok(r.memUsedMB > 0 && r.memUsedMB < r.memTotalMB);
  t.equal(r.cpuTempC, 25);
  t.equal(r.gpuTempC, 23.5, 'the thermal zone wins over the tool: it is fresh every sample');
  t.equal(r.gpuLoadPct, 99);
  // PMIC-Die's constant 100 °C is ignored; the tool's hottest (58.625 °C) counts.
  t.equal(r.hottestC, 58.625);
  t.equal(r.disks.length, 1);
  t.equal(r.disks[0].path, dir);
  t.ok(r.disks[0].freeMB > 0 && r.disks[0].freeMB <= r.disks[0].totalMB && r.disks[0].freePct <= 100);
  t.match(r.errors, [/^disk .*missing: ENOENT$/]);
  t.ok(r.costMs >= 0);

  // Concurrent callers share one sample; the GPU tool is not re-run within gpuMaxAgeMs.
  const [a, b] = await Promise.all([sampler.sample(), sampler.sample()]);
  t.equal(a, b, 'one in-flight sample');
  t.equal(gpuReads, 1);
  t.ok(a.gpuAgeMs !== null && a.gpuAgeMs >= 0);
  sampler.close();
  sampler.close();
  await t.rejects(sampler.sample(), /closed/);
});

t.test('GPU: none found stops looking; a failing tool is reported and not trusted', async (t) => {
  let calls = 0;
  const none = await HealthSampler.create({
    sysRoot: join(fixtures, 'sys-orin'),
    gpuMaxAgeMs: 0,
    readGpu: async () => {
      calls++;
      return null;
    },
  });
  const first = await none.sample();
  await none.sample();
  t.equal(calls, 1, 'no tool on this box: asked once');
  t.equal(first.gpu, null);
  t.equal(first.gpuTempC, 44.406, 'the zone still gives the GPU temperature');
  t.equal(first.hottestC, 45.5);

  let fail = false;
  const flaky = await HealthSampler.create({
    sysRoot: join(fixtures, 'sys-orin'),
    gpuMaxAgeMs: 0,
    readGpu: async (): Promise<GpuReading> => {
      if (fail) throw new GpuReadError('nvidia-smi failed: driver gone');
      return orinBusy;
    },
  });
  t.equal((await flaky.sample()).gpuLoadPct, 99);
  fail = true;
  const broken = await flaky.sample();
  t.equal(broken.gpu, null, 'the old reading is dropped, not shown as current');
  t.equal(broken.gpuLoadPct, null);
  t.match(broken.errors, ['gpu: nvidia-smi failed: driver gone']);
  fail = false;
  t.same((await flaky.sample()).errors, [], 'recovers');
});

t.test('CPU load is measured between samples', async (t) => {
  const sampler = await HealthSampler.create({ gpu: false, sysRoot: join(fixtures, 'sys-orin') });
  await sampler.sample();
  // Keep one core fully busy for 400 ms: whatever else the box does, load >= 1/cores of it.
  const until = performance.now() + 400;
  while (performance.now() < until);
  const busy = await sampler.sample();
  const floor = (0.8 * 100) / cpus().length;
  t.ok(busy.cpuLoadPct >= floor, `${busy.cpuLoadPct.toFixed(1)} % >= ${floor.toFixed(1)} %`);
  t.ok(busy.cpuLoadPct <= 100);
});

t.test('on this machine, without a GPU: a sample stays cheap', async (t) => {
  const sampler = await HealthSampler.create({ gpu: false, diskPaths: [tmpdir()] });
  const costs: number[] = [];
  for (let i = 0; i < 5; i++) costs.push((await sampler.sample()).costMs);
  costs.sort((x, y) => x - y);
  t.comment(`sample cost ms (sorted): ${costs.map((c) => c.toFixed(1)).join(' ')}`);
  // Generous on a loaded 2-core box; the point is "no 500 ms load probe, no spawn per sample".
  t.ok(costs[2] < 250, `median ${costs[2].toFixed(1)} ms`);
});
