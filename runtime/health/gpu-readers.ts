import { LumenError } from '../errors.js';
/**
 * GPU load, temperature and memory from the vendor tools: `nvidia-smi` on discrete GPUs (and
 * Thor), `tegrastats` on Jetson (Nano, TX1/TX2, Xavier, Orin). Parsers are pure; readGpu() runs
 * whichever tool is installed and returns null when neither is.
 */
import { spawn } from 'node:child_process';
import { access, stat } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** The tool output could not be read or parsed. code: 'GPU_READ'. */
export class GpuReadError extends LumenError {
  constructor(message: string, options?: ErrorOptions) {
    super('GPU_READ', message, {}, options);
    this.name = 'GpuReadError';
  }
}

/** One GPU's state; a field is null when the tool does not report it. */
export interface GpuReading {
  /** Which tool produced it. */
  source: 'nvidia-smi' | 'tegrastats';
  /** Busy percentage of the GPU engine, 0–100 (tegrastats: relative to the current clock). */
  gpuLoadPct: number | null;
  /** GPU temperature, °C. */
  gpuTempC: number | null;
  /** GPU clock, MHz (tegrastats only; the highest GPC clock on multi-GPC parts). */
  gpuFreqMHz: number | null;
  /** Memory in use, MB: dedicated GPU memory (nvidia-smi) or the shared RAM (Jetson). */
  memUsedMB: number | null;
  /** Memory size, MB, same scope as memUsedMB. */
  memTotalMB: number | null;
  /** CPU temperature, °C (tegrastats only). */
  cpuTempC: number | null;
  /** Hottest trustworthy sensor, °C: what thermal limits should compare against. */
  hottestC: number | null;
  /** Every valid sensor the tool named, lower-cased name → °C. */
  temps: Record<string, number>;
}

/** The query readGpu() sends to nvidia-smi; parseNvidiaSmi() expects these four columns. */
export const NVIDIA_SMI_ARGS = ['--query-gpu=utilization.gpu,temperature.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'] as const;

function smiNumber(field: string, line: string): number | null {
  const v = field.trim();
  // "[N/A]" (MIG, some Jetsons), "[Not Supported]", "[Unknown Error]": not a number, not a failure.
  if (v.startsWith('[') || v === 'N/A' || v === '') return null;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new GpuReadError(`nvidia-smi: "${v}" is not a number in line "${line}"`);
  return n;
}

/** Parses `nvidia-smi --query-gpu=utilization.gpu,temperature.gpu,memory.used,memory.total --format=csv,noheader,nounits`: one reading per GPU, in index order. */
export function parseNvidiaSmi(text: string): GpuReading[] {
  const readings: GpuReading[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const fields = line.split(',');
    if (fields.length !== 4) throw new GpuReadError(`nvidia-smi: expected 4 columns, got ${fields.length} in "${line}"`);
    const [load, temp, used, total] = fields.map((f) => smiNumber(f, line));
    readings.push({
      source: 'nvidia-smi',
      gpuLoadPct: load,
      gpuTempC: temp,
      gpuFreqMHz: null,
      memUsedMB: used,
      memTotalMB: total,
      cpuTempC: null,
      hottestC: temp,
      temps: temp === null ? {} : { gpu: temp },
    });
  }
  return readings;
}

// GR3D is the Jetson GPU engine. Seen forms: "GR3D 3%@76" (TX1, L4T 28), "GR3D_FREQ 0%" (Nano,
// Orin Nano JP5), "GR3D_FREQ 99%@921" (L4T 32), "GR3D_FREQ 0%@[305]" / "12%@[1300,1300]" (JP5.1+,
// one clock per GPC), "GR3D_FREQ @[1000,1000,1000]" (Thor: clocks only, load unknown).
const GR3D_RE = /\bGR3D(?:_FREQ)?\s+(?:(\d+)%)?(?:@(?:\[([\d,]+)\]|(\d+)))?(?=\s|$)/;
const RAM_RE = /\bRAM (\d+)\/(\d+)MB\b/;
// "gpu@44.4C", "GPU@40C", "tj@49.312C", JP7's "cpu@52.968C/52.968C"; "CPU [12%@1190" never
// matches because a sensor name must touch the "@".
const TEMP_RE = /(?<![\w%])([A-Za-z][A-Za-z0-9_-]*)@(-?\d+(?:\.\d+)?)C(?:\/-?\d+(?:\.\d+)?C)?(?![\w])/g;

// Sensors that say nothing about heat: PMIC@100C (Nano, TX2) and PMIC@50C (Xavier NX) are
// constants; -256C (Orin CV*, GPU while power-gated) means "no reading".
const UNTRUSTED_SENSORS = new Set(['pmic']);
const validTemp = (c: number): boolean => c > -40 && c < 150;

/** Parses one `tegrastats` line (any L4T from 28 to JetPack 7); throws GpuReadError if it is not one. */
export function parseTegrastatsLine(line: string): GpuReading {
  const ram = RAM_RE.exec(line);
  const gr3d = GR3D_RE.exec(line);
  if (!ram && !(gr3d && (gr3d[1] ?? gr3d[2] ?? gr3d[3]))) {
    throw new GpuReadError(`tegrastats: no RAM or GR3D field in "${line.slice(0, 120)}"`);
  }
  const temps: Record<string, number> = {};
  for (const m of line.matchAll(TEMP_RE)) {
    const celsius = Number(m[2]);
    if (validTemp(celsius)) temps[m[1].toLowerCase()] = celsius;
  }
  let gpuFreqMHz: number | null = null;
  if (gr3d?.[2]) gpuFreqMHz = Math.max(...gr3d[2].split(',').filter(Boolean).map(Number));
  else if (gr3d?.[3]) gpuFreqMHz = Number(gr3d[3]);
  // TX2 reports the two CPU clusters as MCPU and BCPU.
  const cpuCandidates = ['cpu', 'mcpu', 'bcpu'].map((k) => temps[k]).filter((v) => v !== undefined);
  const trusted = Object.entries(temps)
    .filter(([name]) => !UNTRUSTED_SENSORS.has(name))
    .map(([, c]) => c);
  return {
    source: 'tegrastats',
    gpuLoadPct: gr3d?.[1] !== undefined ? Number(gr3d[1]) : null,
    gpuTempC: temps.gpu ?? null,
    gpuFreqMHz,
    memUsedMB: ram ? Number(ram[1]) : null,
    memTotalMB: ram ? Number(ram[2]) : null,
    cpuTempC: cpuCandidates.length ? Math.max(...cpuCandidates) : null,
    hottestC: trusted.length ? Math.max(...trusted) : null,
    temps,
  };
}

/** The absolute path of an executable named `name` on PATH (like `which`), or null. */
export async function findOnPath(name: string, pathEnv: string = process.env.PATH ?? ''): Promise<string | null> {
  for (const dir of pathEnv.split(delimiter)) {
    // An empty or relative PATH entry means "the current directory": never trust it for a daemon.
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, fsConstants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return null;
}

/** Options for readGpu(). */
export interface ReadGpuOptions {
  /** PATH to search for the tools; default process.env.PATH. */
  pathEnv?: string;
  /** Kill a tool that has not answered after this long, ms; default 3000 (nvidia-smi hangs when the driver is wedged). */
  timeoutMs?: number;
  /** tegrastats --interval, ms; its first line comes after one interval; default 100. */
  tegrastatsIntervalMs?: number;
}

interface ToolRun {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs a tool to completion, or kills it at timeoutMs; `untilLine` resolves at the first line it accepts. */
function runTool(file: string, args: readonly string[], timeoutMs: number, untilLine?: (line: string) => boolean): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (err: Error | null, run?: ToolRun) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill(err ? 'SIGKILL' : 'SIGTERM');
      if (err) reject(err);
      else resolve(run!);
    };
    const timer = setTimeout(() => finish(new GpuReadError(`${file} gave no answer within ${timeoutMs} ms; killed`)), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!untilLine) return;
      const lines = stdout.split('\n');
      // The last piece may be a line still being written.
      const found = lines.slice(0, -1).find(untilLine);
      if (found !== undefined) finish(null, { stdout: found, stderr, code: null });
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.on('error', (err) => finish(new GpuReadError(`cannot run ${file}: ${err.message}`, { cause: err })));
    child.on('close', (code) => finish(null, { stdout, stderr, code }));
  });
}

function isTegrastatsLine(line: string): boolean {
  try {
    parseTegrastatsLine(line);
    return true;
  } catch {
    // The parser refuses it: not a tegrastats line.
    return false;
  }
}

/**
 * Reads the GPU with the first tool found on PATH: nvidia-smi (first GPU), else tegrastats
 * (one line, then the tool is stopped). Null when neither is installed; GpuReadError when a tool
 * is there but fails, hangs past timeoutMs, or prints something unexpected.
 */
export async function readGpu(options: ReadGpuOptions = {}): Promise<GpuReading | null> {
  const { pathEnv = process.env.PATH ?? '', timeoutMs = 3000, tegrastatsIntervalMs = 100 } = options;
  const smi = await findOnPath('nvidia-smi', pathEnv);
  if (smi) {
    const run = await runTool(smi, NVIDIA_SMI_ARGS, timeoutMs);
    if (run.code !== 0) {
      // e.g. "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
      const why = (run.stdout + run.stderr).trim().split('\n')[0] || `exit code ${run.code}`;
      throw new GpuReadError(`nvidia-smi failed: ${why}`);
    }
    const [first] = parseNvidiaSmi(run.stdout);
    if (!first) throw new GpuReadError('nvidia-smi listed no GPU');
    // An nvidia-smi that knows nothing (all [N/A]) is not the GPU's voice; let tegrastats speak.
    if (first.gpuLoadPct !== null || first.gpuTempC !== null || first.memUsedMB !== null) return first;
  }
  const tegrastats = await findOnPath('tegrastats', pathEnv);
  if (!tegrastats) return null;
  const run = await runTool(tegrastats, ['--interval', String(tegrastatsIntervalMs)], timeoutMs, isTegrastatsLine);
  if (run.code !== null) {
    const why = run.stderr.trim().split('\n')[0] || `exit code ${run.code}`;
    throw new GpuReadError(`tegrastats ended without a stats line: ${why}`);
  }
  return parseTegrastatsLine(run.stdout);
}
