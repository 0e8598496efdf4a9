/**
 * What recording costs (docs/recording.md): runs `lumen run` on a feed, looped live, with
 * recording off and then on (alert clips and 10 s segments), and prints per run the frames
 * processed, the work outside ONNX Runtime, the recorder's own time on the main thread per
 * frame, the encoder thread's share of a core, the process's CPU, the pre-roll held, and the
 * encoded rate as disk per hour; then the push alone: the main thread's time to hand one
 * analysis frame to the encoder, against a plain copy of as many bytes (what this machine's
 * load does to any 2 MB copy). Usage:
 *   node dist/scripts/bench-record.js --feed F.mkv [--seconds 30] [--analysis 960x540] [--push-only]
 */
import { asService } from '../runtime/env.js';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { freePort } from '../runtime/util/free-port.js';
import { join, resolve } from 'node:path';
import { LumenClient } from '../runtime/client/client.js';
import { PIPELINES_DIR, PROJECT_ROOT } from '../runtime/config/paths.js';
import { TOPICS, type StatusHeader } from '../runtime/publish/protocol.js';
import { Catalogue } from '../runtime/record/catalogue.js';
import { Encoder } from '../runtime/record/encoder.js';
import { PROFILES } from '../runtime/record/profiles.js';
import { Capture } from '../runtime/capture/capture.js';
import { createLogger } from '../runtime/log.js';

const arg = (name: string, dflt: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const feed = resolve(arg('--feed', join(PROJECT_ROOT, 'var', 'feeds', 'demo.mkv')));
const seconds = Number(arg('--seconds', '30'));
const analysis = arg('--analysis', '960x540');
const TICK = 100; // clock ticks per second (Linux USER_HZ)

/** CPU ticks (user + system) of the process, of its main thread, and of its threads named `thread`. */
function ticks(pid: number, thread: string): { all: number; main: number; named: number } {
  const cpu = (stat: string) => {
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  let named = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === thread) named += cpu(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    } catch {
      // the thread ended
    }
  }
  return { all: cpu(readFileSync(`/proc/${pid}/stat`, 'utf8')), main: cpu(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')), named };
}

async function run(record: boolean) {
  const state = join(PROJECT_ROOT, 'var', 'bench-record-state');
  rmSync(state, { recursive: true, force: true });
  const ep = { endpoint: `tcp://127.0.0.1:${await freePort()}`, historyEndpoint: `tcp://127.0.0.1:${await freePort()}` };
  const cfg = {
    capture: { pipeline: 'file-replay', params: { location: feed }, loop: true, analysisSize: analysis },
    publish: ep,
    metrics: { enabled: false },
    health: { degrade: { enabled: false } },
    state: { dir: state },
    record: record ? { clips: { enabled: true }, segments: { enabled: true, seconds: 10 } } : { clips: { enabled: false } },
  };
  const path = join(PROJECT_ROOT, 'var', 'bench-record-config.json');
  await writeFile(path, JSON.stringify(cfg));
  const service = asService(['run', '--config', path]);
  const child = spawn(process.execPath, service.argv, { stdio: 'ignore', env: service.env });
  const client = new LumenClient({ ...ep, topics: [TOPICS.status] });
  let first: { h: StatusHeader; t: ReturnType<typeof ticks>; at: number } | undefined;
  let last: StatusHeader | undefined;
  let t1 = { all: 0, main: 0, named: 0 };
  let preRoll = { bytes: 0, seconds: 0 };
  let warm = 0;
  try {
    for await (const m of client) {
      if (m.topic !== TOPICS.status || m.header.state !== 'running' || warm++ < 3) continue;
      const now = ticks(child.pid!, 'lumen_rec_src:s');
      first ??= { h: m.header, t: now, at: performance.now() };
      last = m.header;
      t1 = now;
      const r = m.header.recording;
      if (r && r.preRoll.bytes > preRoll.bytes) preRoll = r.preRoll;
      if (performance.now() - first.at >= seconds * 1000) break;
    }
  } finally {
    client.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  const wall = (performance.now() - first!.at) / 1000;
  const segs = (await Catalogue.read(join(state, 'recordings'))).list().filter((r) => r.kind === 'segment' && r.state === 'complete' && r.startTs && r.endTs);
  const segBytes = segs.reduce((s, r) => s + r.bytes, 0);
  const segSecs = segs.reduce((s, r) => s + (r.endTs! - r.startTs!) / 1000, 0);
  const processed = last!.processed - first!.h.processed;
  return {
    fps: processed / wall,
    mainMsPerFrame: ((t1.main - first!.t.main) * (1000 / TICK)) / Math.max(1, processed),
    outsideOrt: last!.work?.outsideOrtMs,
    record: last!.latencyMs.record,
    processCpu: (t1.all - first!.t.all) / TICK / wall,
    encoderCpu: (t1.named - first!.t.named) / TICK / wall,
    rec: last!.recording,
    preRoll,
    mbPerHour: segSecs > 0 ? ((segBytes / segSecs) * 3600) / 2 ** 20 : null,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const ms = (p?: { p50: number; p99: number }) => (p ? `p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms` : '—');
process.stdout.write(`recording cost on ${feed} at analysis ${analysis}, ${seconds} s per run\n`);
for (const record of process.argv.includes('--push-only') ? [] : [false, true]) {
  const r = await run(record);
  process.stdout.write(`\nrecording ${record ? 'ON (clips + 10 s segments)' : 'off'}\n`);
  process.stdout.write(`  frames processed      ${r.fps.toFixed(1)} /s\n`);
  process.stdout.write(`  outside ONNX Runtime  ${ms(r.outsideOrt)}\n`);
  process.stdout.write(`  process CPU           ${pct(r.processCpu)} of a core\n`);
  process.stdout.write(
    `  main thread CPU       ${r.mainMsPerFrame.toFixed(2)} ms per processed frame (all its work: capture, conditioning, decision, publish, record)\n`,
  );
  if (!record) continue;
  process.stdout.write(`  record stage (main)   ${ms(r.record)} per frame handled\n`);
  process.stdout.write(
    `  encoder thread        ${pct(r.encoderCpu)} of a core (conversion + VP8, ${r.rec?.frames.recorded} frames recorded, ${r.rec?.frames.skippedRate} above the rate cap, ${r.rec?.frames.skippedBusy} with the encoder behind)\n`,
  );
  process.stdout.write(
    `  pre-roll held         ${r.preRoll.seconds} s in ${(r.preRoll.bytes / 1024).toFixed(0)} KiB (cap ${(r.rec?.preRoll.maxBytes ?? 0) / 2 ** 20} MiB)\n`,
  );
  process.stdout.write(`  disk                  ${r.mbPerHour === null ? '—' : `${r.mbPerHour.toFixed(0)} MiB per hour of segments`}\n`);
}

// The push alone, on frames of the feed at the analysis size, at maxFps (15).
const [aw, ah] = analysis.split('x').map(Number);
const frames: Buffer[] = [];
const cap = await Capture.open(
  {
    pipelinesDir: PIPELINES_DIR,
    template: 'file-replay',
    params: { location: feed },
    mode: 'every-frame',
    loop: false,
    readyTimeoutMs: 20_000,
    analysis: { width: aw, height: ah },
  },
  createLogger('bench', 'error'),
);
for await (const f of cap) if (frames.push(Buffer.from(f.data)) >= 60) break;
cap.close();
const { width: fw, height: fh } = { width: aw, height: ah };
const enc = Encoder.open<null>(
  { profile: PROFILES.vp8, size: { width: fw, height: fh }, fps: 15, gop: 15, kbps: 1500, maxInFlight: 4 },
  () => {},
  () => {},
  createLogger('bench', 'error'),
);
const pushMs: number[] = [];
const copyMs: number[] = [];
const target = Buffer.alloc(fw * fh * 4);
for (let i = 0; i < 15 * seconds; i++) {
  let t = performance.now();
  enc.push(frames[i % frames.length], i, Date.now(), null);
  pushMs.push(performance.now() - t);
  t = performance.now();
  frames[(i + 1) % frames.length].copy(target);
  copyMs.push(performance.now() - t);
  await new Promise((r) => setTimeout(r, 1000 / 15));
}
await enc.close();
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)].toFixed(2);
const line = (xs: number[]) => `p50 ${q(xs, 0.5)} ms, p90 ${q(xs, 0.9)} ms, p99 ${q(xs, 0.99)} ms, max ${q(xs, 1)} ms`;
process.stdout.write(
  `\npush of one ${fw}×${fh} RGBA frame (${((fw * fh * 4) / 2 ** 20).toFixed(1)} MiB) into the encoder, main thread, ${pushMs.length} frames at 15/s\n`,
);
process.stdout.write(`  encoder push          ${line(pushMs)}\n  plain copy (control)  ${line(copyMs)}\n`);
process.exit(0);
