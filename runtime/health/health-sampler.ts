/**
 * One health reading of the box: CPU load, memory, temperatures, GPU, free disk for the journal
 * and engine-cache folders. Built for a sample every few seconds on a Jetson without stealing
 * time from the video path: nothing here blocks the event loop or spawns a process per sample,
 * except the GPU tool, which is read at most every gpuMaxAgeMs.
 *
 * Measured on the 2-core dev box (systeminformation 5.33): si.currentLoad() runs
 * `execSync('cat /proc/stat | grep cpu')` on Linux, 4–6 ms with the event loop blocked, and its
 * first call waits 500 ms; si.cpuTemperature() shells out twice (execSync + exec, 7–12 ms);
 * si.fsSize() spawns df for every mount (~7 ms). So CPU load comes from os.cpus() deltas
 * (0.05 ms), temperatures from /sys/class/thermal (async reads), free space from statfs(2);
 * systeminformation supplies memory (an async /proc/meminfo read, 0.2 ms) and, only on boxes
 * without thermal zones, the CPU temperature.
 */
import { readdir, readFile, statfs } from 'node:fs/promises';
import { errnoOf, messageOf } from '../errors.js';
import { cpus } from 'node:os';
import { join } from 'node:path';
import si from 'systeminformation';
import { readGpu as defaultReadGpu, type GpuReading, type ReadGpuOptions } from './gpu-readers.js';

const MiB = 1024 * 1024;

/** Free space of one folder's filesystem. */
export interface DiskFree {
  /** The folder asked about. */
  path: string;
  /** Space an unprivileged writer can still use, MB (statfs bavail). */
  freeMB: number;
  /** Filesystem size, MB. */
  totalMB: number;
  /** freeMB / totalMB, 0–100. */
  freePct: number;
}

/** What sample() returns. Temperatures in °C, sizes in MB (MiB), loads 0–100. */
export interface HealthReading {
  /** When the sample started, ms since epoch. */
  ts: number;
  /** All-core CPU busy % since the previous sample (or create()). */
  cpuLoadPct: number;
  /** RAM in use (total − available), MB. On Jetson this includes GPU allocations. */
  memUsedMB: number;
  /** RAM size, MB. */
  memTotalMB: number;
  /** CPU temperature, or null when the box exposes none. */
  cpuTempC: number | null;
  /** GPU temperature (thermal zone, else the GPU tool), or null. */
  gpuTempC: number | null;
  /** GPU busy %, from the GPU tool; null without one. */
  gpuLoadPct: number | null;
  /** Hottest trustworthy sensor: the number thermal limits compare against. */
  hottestC: number | null;
  /** Thermal zones by normalised name (cpu, gpu, tj, soc0, x86_pkg_temp…), °C. */
  temps: Record<string, number>;
  /** The latest GPU tool reading, up to gpuMaxAgeMs old; null without a GPU tool. */
  gpu: GpuReading | null;
  /** Age of `gpu`, ms. */
  gpuAgeMs: number | null;
  /** One entry per readable diskPaths folder, in order. */
  disks: DiskFree[];
  /** What could not be read this time, one line each (a GPU tool failure, a missing folder). */
  errors: string[];
  /** Wall time this sample took, ms. */
  costMs: number;
}

/** Options for HealthSampler.create(). */
export interface HealthSamplerOptions {
  /** Folders whose free space to report (the alert journal's, the engine cache's); default none. */
  diskPaths?: readonly string[];
  /** Where sysfs is mounted; tests point it at a fixture tree. Default /sys. */
  sysRoot?: string;
  /** Re-run the GPU tool only when its last reading is older than this, ms; default 10 000. */
  gpuMaxAgeMs?: number;
  /** Options for the GPU tool run, or false to skip the GPU; default {}. */
  gpu?: ReadGpuOptions | false;
  /** Replaces readGpu (tests). */
  readGpu?: (options: ReadGpuOptions) => Promise<GpuReading | null>;
}

/** Busy and total CPU time summed over the online cores, ms. */
function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

// Zone types across boards: "CPU-therm" (Nano, Xavier), "cpu-thermal" (Orin, Raspberry Pi),
// "tj-thermal", "soc0-thermal", "x86_pkg_temp", "acpitz"; lower-cased without the suffix.
function zoneName(type: string): string {
  return type
    .trim()
    .toLowerCase()
    .replace(/[-_ ]therm(al)?$/, '');
}

// PMIC-Die is a constant 100 °C (Nano, TX2) or 50 °C (Xavier NX): it says nothing about heat.
const untrusted = (name: string): boolean => name.startsWith('pmic');
const plausible = (c: number): boolean => c > -40 && c < 150;

/** Reads every /sys/class/thermal zone: normalised name → °C; unreadable or implausible zones are left out. */
export async function readThermalZones(sysRoot = '/sys'): Promise<Record<string, number>> {
  const base = join(sysRoot, 'class/thermal');
  let entries: string[];
  try {
    entries = (await readdir(base)).filter((e) => e.startsWith('thermal_zone'));
  } catch {
    // No thermal class (not Linux, or a container without /sys): no zones to read.
    return {};
  }
  // Numeric order, so "thermal_zone10" does not come before "thermal_zone2" in the names below.
  entries.sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
  const zones = await Promise.all(
    entries.map(async (entry) => {
      try {
        const [type, temp] = await Promise.all([readFile(join(base, entry, 'type'), 'utf8'), readFile(join(base, entry, 'temp'), 'utf8')]);
        const celsius = Number(temp.trim()) / 1000;
        return Number.isFinite(celsius) && plausible(celsius) ? ([zoneName(type), celsius] as const) : null;
      } catch {
        // A power-gated sensor (Orin's GPU when idle) fails to read: no reading, not an error.
        return null;
      }
    }),
  );
  const temps: Record<string, number> = {};
  for (const zone of zones) {
    if (!zone) continue;
    let [name] = zone;
    for (let n = 2; name in temps; n++) name = `${zone[0]}#${n}`;
    temps[name] = zone[1];
  }
  return temps;
}

function cpuTempFrom(temps: Record<string, number>): number | null {
  if (temps.cpu !== undefined) return temps.cpu;
  if (temps.x86_pkg_temp !== undefined) return temps.x86_pkg_temp;
  // TX2 names its two clusters MCPU and BCPU.
  const clusters = [temps.mcpu, temps.bcpu].filter((v) => v !== undefined);
  return clusters.length ? Math.max(...clusters) : null;
}

/** Samples the box's health; create() once, then sample() every few seconds. */
export class HealthSampler {
  readonly #diskPaths: readonly string[];
  readonly #sysRoot: string;
  readonly #gpuMaxAgeMs: number;
  readonly #gpuOptions: ReadGpuOptions | false;
  readonly #readGpu: (options: ReadGpuOptions) => Promise<GpuReading | null>;
  // 'unknown' until the first GPU read; 'none' once no tool was found (it will not appear later).
  #gpuTool: 'unknown' | 'present' | 'none' = 'unknown';
  #gpu: GpuReading | null = null;
  #gpuAt = 0;
  #gpuTriedAt = -Infinity;
  #gpuError: string | null = null;
  // Without thermal zones, systeminformation's probe (which shells out) is used, if it finds anything.
  #siCpuTemp = false;
  #cpuBefore = cpuTimes();
  #inFlight: Promise<HealthReading> | undefined;
  #closed = false;

  private constructor(options: HealthSamplerOptions) {
    this.#diskPaths = [...(options.diskPaths ?? [])];
    this.#sysRoot = options.sysRoot ?? '/sys';
    this.#gpuMaxAgeMs = options.gpuMaxAgeMs ?? 10_000;
    this.#gpuOptions = options.gpu ?? {};
    this.#readGpu = options.readGpu ?? defaultReadGpu;
  }

  /**
   * A sampler; finds which temperature source this box has. CPU load in the first sample() is
   * measured from create() on, later ones from the previous sample.
   */
  static async create(options: HealthSamplerOptions = {}): Promise<HealthSampler> {
    const sampler = new HealthSampler(options);
    const zones = await readThermalZones(sampler.#sysRoot);
    if (cpuTempFrom(zones) === null) {
      const probe = await si.cpuTemperature();
      sampler.#siCpuTemp = typeof probe.main === 'number' && plausible(probe.main);
    }
    return sampler;
  }

  /** One reading. Calls made while one is running share it, so slow sensors never pile up. */
  sample(): Promise<HealthReading> {
    if (this.#closed) return Promise.reject(new Error('HealthSampler is closed'));
    this.#inFlight ??= this.#sample().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Stops sampling; later sample() calls reject. Safe to call twice. */
  close(): void {
    this.#closed = true;
  }

  async #sample(): Promise<HealthReading> {
    const ts = Date.now();
    const started = performance.now();
    const errors: string[] = [];
    const [mem, temps, disks, siTemp] = await Promise.all([
      si.mem(),
      readThermalZones(this.#sysRoot),
      Promise.all(this.#diskPaths.map((path) => this.#diskFree(path, errors))),
      this.#siCpuTemp ? si.cpuTemperature() : Promise.resolve(null),
      this.#refreshGpu(errors),
    ]);
    const cpuNow = cpuTimes();
    const busy = cpuNow.busy - this.#cpuBefore.busy;
    const total = cpuNow.total - this.#cpuBefore.total;
    this.#cpuBefore = cpuNow;
    const gpu = this.#gpu;
    const cpuTempC = cpuTempFrom(temps) ?? (siTemp && plausible(siTemp.main ?? NaN) ? siTemp.main : null);
    const candidates = [
      ...Object.entries(temps)
        .filter(([name]) => !untrusted(name))
        .map(([, c]) => c),
      cpuTempC,
      gpu?.hottestC ?? null,
    ].filter((c): c is number => c !== null);
    return {
      ts,
      // A core going off-line (Jetson power modes) can make the difference negative: clamp.
      cpuLoadPct: total > 0 ? Math.min(100, Math.max(0, (100 * busy) / total)) : 0,
      memUsedMB: (mem.total - mem.available) / MiB,
      memTotalMB: mem.total / MiB,
      cpuTempC,
      gpuTempC: temps.gpu ?? gpu?.gpuTempC ?? null,
      gpuLoadPct: gpu?.gpuLoadPct ?? null,
      hottestC: candidates.length ? Math.max(...candidates) : null,
      temps,
      gpu,
      gpuAgeMs: gpu ? Date.now() - this.#gpuAt : null,
      disks: disks.filter((d): d is DiskFree => d !== null),
      errors,
      costMs: performance.now() - started,
    };
  }

  async #diskFree(path: string, errors: string[]): Promise<DiskFree | null> {
    try {
      const s = await statfs(path);
      const freeMB = (s.bavail * s.bsize) / MiB;
      const totalMB = (s.blocks * s.bsize) / MiB;
      return { path, freeMB, totalMB, freePct: totalMB > 0 ? (100 * freeMB) / totalMB : 0 };
    } catch (err) {
      errors.push(`disk ${path}: ${errnoOf(err) ?? messageOf(err)}`);
      return null;
    }
  }

  async #refreshGpu(errors: string[]): Promise<void> {
    if (this.#gpuOptions === false || this.#gpuTool === 'none') return;
    // Also after a failure: a hung nvidia-smi costs its whole timeout, so retry at the same pace.
    if (Date.now() - this.#gpuTriedAt >= this.#gpuMaxAgeMs) {
      this.#gpuTriedAt = Date.now();
      try {
        const reading = await this.#readGpu(this.#gpuOptions);
        this.#gpuError = null;
        if (reading === null) {
          this.#gpuTool = 'none';
          this.#gpu = null;
          return;
        }
        this.#gpuTool = 'present';
        this.#gpu = reading;
        this.#gpuAt = Date.now();
      } catch (err) {
        // A stale reading would hide a dead driver: drop it and report until a read succeeds.
        this.#gpu = null;
        this.#gpuError = `gpu: ${(err as Error).message}`;
      }
    }
    if (this.#gpuError) errors.push(this.#gpuError);
  }
}
