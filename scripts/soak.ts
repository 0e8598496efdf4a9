/**
 * Soak test of the default configuration: runs `lumen run` (demo feed, reference models) on free
 * local ports with a subscriber attached for N minutes, and prints the daemon's RSS, V8 heap,
 * open file descriptors and frame-age percentiles over time, then the growth per hour after the
 * warm-up (least-squares slope). Usage: npm run soak -- --minutes 60 [--warmup 10] [--every 60]
 * (--warmup in minutes, --every in seconds between samples; --json FILE also writes the samples;
 * --from FILE prints the summary of samples written before, without running anything).
 *
 * RSS is read every few seconds and each sample gives the interval's median, beside the same less
 * the V8 heap reserved ("native"): between full collections garbage piles up in the V8 heap by
 * tens of MB, and a single reading would measure where in that sawtooth it fell.
 *
 * On a shared machine the frame rate follows the machine's load, and the working set follows the
 * frame rate; besides the plain slope over time the summary gives the slope at an equal frame
 * rate (RSS fitted on minutes and on overlays per second together).
 */
import { asService } from '../runtime/env.js';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { freePort } from '../runtime/util/free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_EVENTS, LumenClient } from '../runtime/client/client.js';
import { messageOf } from '../runtime/errors.js';
import { percentile } from '../runtime/daemon/stats.js';
import { TOPICS, type StatusHeader } from '../runtime/publish/protocol.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
const minutes = arg('minutes', 60);
const warmupMin = arg('warmup', Math.min(10, minutes / 3));
const everyS = arg('every', Math.max(5, Math.round(minutes)));
const jsonIdx = process.argv.indexOf('--json');
const jsonOut = jsonIdx >= 0 ? process.argv[jsonIdx + 1] : undefined;
const fromIdx = process.argv.indexOf('--from');
const fromFile = fromIdx >= 0 ? process.argv[fromIdx + 1] : undefined;

/** Resident set size of another process from /proc, MB. */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

interface Sample {
  minute: number;
  /** Median of the RSS readings taken every few seconds over the interval: the V8 heap's sawtooth (garbage piling up between full collections) makes any single reading a matter of phase. */
  rssMB: number;
  /** Lowest RSS reading in the interval. */
  rssMinMB: number;
  /** Median of RSS less the V8 heap reserved at the same moment: memory held by Buffers, ONNX Runtime, GStreamer and malloc. */
  nativeMB: number;
  heapTotalMB: number;
  heapUsedMB: number;
  externalMB: number;
  fds: number;
  fps: number;
  /** Capture → overlay published, per overlay received in this interval, ms. */
  ageP50: number;
  ageP99: number;
  ageMax: number;
  overlays: number;
  state: string;
}

/** Least-squares slope of y over x (per minute) → per hour. */
function slopePerHour(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}

/** Per-hour slope of y over minutes at an equal rate: least squares of y on minutes and rate together. */
function slopeAtEqualRatePerHour(ts: number[], rates: number[], ys: number[]): number {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const [mt, mr, my] = [mean(ts), mean(rates), mean(ys)];
  let stt = 0,
    srr = 0,
    str = 0,
    sty = 0,
    sry = 0;
  for (let i = 0; i < ts.length; i++) {
    const [t, r, y] = [ts[i] - mt, rates[i] - mr, ys[i] - my];
    stt += t * t;
    srr += r * r;
    str += t * r;
    sty += t * y;
    sry += r * y;
  }
  const det = stt * srr - str * str;
  return det === 0 ? slopePerHour(ts, ys) : ((srr * sty - str * sry) / det) * 60;
}

function summarize(samples: Sample[], warmupMin: number, everyS: number): void {
  const after = samples.filter((s) => s.minute >= warmupMin);
  if (after.length < 3) {
    console.log('too few samples after the warm-up for a growth figure: run longer or shorten --warmup');
    return;
  }
  const xs = after.map((s) => s.minute);
  const rates = after.map((s) => s.overlays / everyS);
  for (const [k, label] of [
    ['rssMB', 'RSS'],
    ['rssMinMB', 'RSS floor'],
    ['nativeMB', 'native'],
    ['heapTotalMB', 'heap total'],
    ['heapUsedMB', 'heap used'],
    ['externalMB', 'external'],
    ['fds', 'fds'],
  ] as const) {
    const ys = after.map((s) => s[k]);
    const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
    const slope = slopePerHour(xs, ys);
    const equal = slopeAtEqualRatePerHour(xs, rates, ys);
    const pct = (v: number) => `${((100 * v) / mean).toFixed(2)} %/h`;
    console.log(
      `${label.padEnd(10)} ${ys[0].toFixed(1)} → ${ys.at(-1)!.toFixed(1)} (mean ${mean.toFixed(1)}); growth after warm-up ${slope.toFixed(2)}/h (${pct(slope)}), at an equal frame rate ${equal.toFixed(2)}/h (${pct(equal)})`,
    );
  }
  // A leak keeps climbing; a working set that grew with a burst of frames levels off.
  const half = Math.floor(after.length / 2);
  const peak = (xs: Sample[]) => Math.max(...xs.map((s) => s.rssMB));
  console.log(`RSS peak   first half ${peak(after.slice(0, half)).toFixed(1)}, second half ${peak(after.slice(half)).toFixed(1)} MB`);
  console.log(
    `frame rate after warm-up (overlays/s per sample): min ${Math.min(...rates).toFixed(1)} / median ${percentile(rates, 0.5)} / max ${Math.max(...rates).toFixed(1)}`,
  );
  const p50s = after.map((s) => s.ageP50);
  console.log(
    `frame age after warm-up: median of interval p50s ${percentile(p50s, 0.5)} ms, median of interval p99s ${percentile(
      after.map((s) => s.ageP99),
      0.5,
    )} ms, worst interval p99 ${Math.max(...after.map((s) => s.ageP99))} ms`,
  );
}

if (fromFile) {
  const saved = JSON.parse(readFileSync(fromFile, 'utf8')) as { minutes: number; warmupMin: number; everyS: number; samples: Sample[] };
  console.log(`soak samples from ${fromFile}: ${saved.minutes} min, sample every ${saved.everyS} s, warm-up ${saved.warmupMin} min`);
  summarize(saved.samples, saved.warmupMin, saved.everyS);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'lumen-soak-'));
const ep = { endpoint: `tcp://127.0.0.1:${await freePort()}`, historyEndpoint: `tcp://127.0.0.1:${await freePort()}` };
const cfgPath = join(dir, 'config.json');
writeFileSync(cfgPath, JSON.stringify({ publish: ep, state: { dir: join(dir, 'state') } }));
const logFile = join(dir, 'daemon.log');
const log = createWriteStream(logFile);
// The service's environment (systemd/lumen-edge.service) where it shapes memory.
const service = asService(['run', '--config', cfgPath]);
const child = spawn(process.execPath, service.argv, { stdio: ['ignore', 'ignore', 'pipe'], env: service.env });
child.stderr.pipe(log);
const pid = child.pid!;
const stopChild = () => child.exitCode === null && child.kill('SIGTERM');
process.on('SIGINT', () => {
  stopChild();
  process.exit(130);
});

const client = new LumenClient({ ...ep, catchUpAfter: 0 });
let status: StatusHeader | undefined;
let ages: number[] = [];
let overlays = 0;
let alerts = 0;
let historyFailures = 0;
const consume = (async () => {
  for await (const m of client) {
    if (m.topic === TOPICS.status) status = m.header;
    else if (m.topic === TOPICS.overlay) {
      ages.push(m.header.latencyMs);
      overlays++;
    } else if (m.topic === TOPICS.alert) alerts++;
    else if (m.topic === CLIENT_EVENTS.historyFailed) historyFailures++;
  }
})();

console.log(
  `soak: lumen run, default config (demo feed, reference models), ${minutes} min, sample every ${everyS} s, warm-up ${warmupMin} min; log ${logFile}`,
);
console.log(' min   rss MB  native  heap MB  ext MB  fds   fps  age p50  age p99  age max  overlays  state');
const t0 = Date.now();
const samples: Sample[] = [];
/** Seconds between RSS readings within a sample's interval. */
const READ_EVERY_S = Math.min(5, everyS);
while (Date.now() - t0 < minutes * 60_000) {
  // RSS, and RSS less the V8 heap reserved at that moment, over this interval.
  const rssReads: number[] = [];
  const nativeReads: number[] = [];
  const due = Date.now() + everyS * 1000;
  while (Date.now() < due) {
    await new Promise((r) => setTimeout(r, Math.min(READ_EVERY_S * 1000, Math.max(0, due - Date.now()))));
    if (child.exitCode !== null) {
      console.log(`daemon exited with code ${child.exitCode}; see ${logFile}`);
      process.exit(1);
    }
    if (!status?.process) continue; // not up yet
    const rss = rssOf(pid);
    rssReads.push(rss);
    nativeReads.push(rss - status.process.heapTotalMB);
  }
  if (!status?.process) continue; // not up yet
  const p = status.process;
  const s: Sample = {
    minute: (Date.now() - t0) / 60_000,
    rssMB: percentile(rssReads, 0.5),
    rssMinMB: Math.min(...rssReads),
    nativeMB: percentile(nativeReads, 0.5),
    heapTotalMB: p.heapTotalMB,
    heapUsedMB: p.heapUsedMB,
    externalMB: p.externalMB,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    fps: status.fps,
    ageP50: ages.length ? percentile(ages, 0.5) : NaN,
    ageP99: ages.length ? percentile(ages, 0.99) : NaN,
    ageMax: ages.length ? Math.max(...ages) : NaN,
    overlays: ages.length,
    state: status.state,
  };
  ages = [];
  samples.push(s);
  const f = (v: number, w: number, d = 1) => v.toFixed(d).padStart(w);
  console.log(
    `${f(s.minute, 4)} ${f(s.rssMB, 8)} ${f(s.nativeMB, 7)} ${f(s.heapUsedMB, 8)} ${f(s.externalMB, 7)} ${f(s.fds, 4, 0)} ${f(s.fps, 5)} ${f(s.ageP50, 8)} ${f(s.ageP99, 8)} ${f(s.ageMax, 8)} ${f(s.overlays, 9, 0)}  ${s.state}`,
  );
}

client.close();
stopChild();
await consume.catch((err: unknown) => console.log(`subscription ended with an error: ${messageOf(err)}`));
const afterWarmup = samples.filter((s) => s.minute >= warmupMin).length;
console.log(
  `\n${samples.length} samples, ${afterWarmup} after the ${warmupMin}-min warm-up; ${overlays} overlays and ${alerts} alerts received; ${historyFailures} history failures`,
);
summarize(samples, warmupMin, everyS);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ minutes, warmupMin, everyS, samples }, null, 2));
process.exit(0);
