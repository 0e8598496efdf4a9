import t from 'tap';
import { messageOf } from '../runtime/errors.js';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { LumenMessage } from '../runtime/client/client.js';
import { TOPICS, type StatusHeader } from '../runtime/publish/protocol.js';
import { joinReasons, QUALITY_REASONS } from '../runtime/quality/gate-reasons.js';
import { ROOT, daemonWithClient, endpoints, freePort, lumen, stop, tempDir, waitFor, writeConfig } from './helpers/daemon.js';
import { shortDemoFeed } from './helpers/feeds.js';

const RULES = join(ROOT, 'docs/fleet/lumen-alerts.rules.yml');
const DASHBOARD = join(ROOT, 'docs/fleet/lumen-edge.grafana.json');
const SOURCE = { pipeline: 'test-source', params: { width: 160, height: 120, fps: 15 } };

async function daemonConfig(dir: string, metricsAddress: string) {
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: SOURCE,
    inference: { providers: ['cpu'] },
    publish: { ...ep, statusIntervalMs: 250 },
    state: { dir: join(dir, 'state') },
    metrics: { address: metricsAddress },
  });
  return { config, ep };
}

/** Polls `probe` until it returns a value, or fails naming `what` after `ms`. */
async function eventually<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${messageOf(last)})` : ''}`);
}

const isStatus = (m: LumenMessage): m is { topic: typeof TOPICS.status; header: StatusHeader } => m.topic === TOPICS.status;

t.test('a real Prometheus scrapes the daemon and sees frames processed rise; promtool accepts the scrape', async (t) => {
  const dir = tempDir();
  const port = await freePort();
  const { config, ep } = await daemonConfig(dir, `127.0.0.1:${port}`);
  daemonWithClient(t, config, ep);
  const url = `http://127.0.0.1:${port}/metrics`;
  const text = await eventually(
    async () => {
      const body = await (await fetch(url)).text();
      return /^lumen_frames_processed_total [1-9]/m.test(body) ? body : undefined;
    },
    60_000,
    'frames processed on /metrics',
  );
  for (const name of [
    'lumen_frames_captured_total',
    'lumen_frames_dropped_total',
    'lumen_stage_duration_seconds_bucket',
    'lumen_frame_age_seconds_count',
    'lumen_alert_active',
    'lumen_degrade_level',
    'lumen_cpu_load_ratio',
    'lumen_disk_free_bytes',
    'lumen_alert_journal_bytes',
  ])
    t.match(text, new RegExp(`^${name}`, 'm'), `${name} is exported`);
  t.match(text, /^lumen_model_info\{role="classifier",model="ref-classifier",version="[^"]+",provider="cpu"\} 1$/m, 'the provider in use per model');

  // Every lumen_* metric the site's alert rules and dashboard use is one the daemon exports.
  const referenced = new Set(
    [readFileSync(RULES, 'utf8'), readFileSync(DASHBOARD, 'utf8')]
      .join('\n')
      .match(/lumen_[a-z_]+/g)!
      .map((n) => n.replace(/_(bucket|count|sum)$/, '')),
  );
  t.ok(referenced.size >= 10, `the rules and dashboard use ${referenced.size} metrics`);
  for (const name of referenced) t.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} (rules/dashboard) is exported`);

  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  t.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);
  t.equal((check.stdout + check.stderr).trim(), '', 'promtool finds nothing');

  const om = await fetch(url, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
  t.match(om.headers.get('content-type'), /application\/openmetrics-text/, 'OpenMetrics when asked for');
  t.match(await om.text(), /# EOF\n$/, 'an OpenMetrics exposition ends with # EOF');

  // Prometheus from its Debian package, on a free port, with its own config and storage.
  const promPort = await freePort();
  const promConfig = join(dir, 'prometheus.yml');
  writeFileSync(
    promConfig,
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: lumen\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
  );
  const prom = spawn('prometheus', [`--config.file=${promConfig}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let promLog = '';
  prom.stderr.on('data', (d) => (promLog = (promLog + d).slice(-4000)));
  const promExit = new Promise((r) => prom.once('exit', r));
  t.teardown(async () => {
    if (!t.passing()) t.comment(`prometheus log:\n${promLog}`);
    prom.kill('SIGTERM');
    const timer = setTimeout(() => prom.kill('SIGKILL'), 5000);
    await promExit;
    clearTimeout(timer);
  });
  const query = async (q: string): Promise<number | undefined> => {
    const r = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
      status: string;
      data: { result: { value: [number, string] }[] };
    };
    return r.status === 'success' && r.data.result.length ? Number(r.data.result[0].value[1]) : undefined;
  };
  const first = await eventually(() => query('lumen_frames_processed_total{job="lumen"}'), 60_000, 'Prometheus to have scraped lumen_frames_processed_total');
  const later = await eventually(
    async () => {
      const v = await query('lumen_frames_processed_total{job="lumen"}');
      return v !== undefined && v > first ? v : undefined;
    },
    60_000,
    `lumen_frames_processed_total to rise above ${first} in Prometheus`,
  );
  t.ok(later > first, `lumen_frames_processed_total rose from ${first} to ${later}`);
  t.equal(await query('up{job="lumen"}'), 1, 'the target is up');
  const rate = await eventually(
    async () => {
      const v = await query('rate(lumen_frames_processed_total{job="lumen"}[5s])');
      return v !== undefined && v > 0 ? v : undefined;
    },
    30_000,
    'a positive processing rate',
  );
  t.ok(rate > 0, `rate() of frames processed is ${rate.toFixed(1)}/s`);
});

t.test('frames gated for bleeding are counted under reason="bleeding", as status counts them', async (t) => {
  // The demo schedule bleeds before its first lesion: about half a second of every 6 s loop is gated.
  const feed = await shortDemoFeed(6, 10);
  const dir = tempDir();
  const port = await freePort();
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: true },
    inference: { providers: ['cpu'] },
    publish: { ...ep, statusIntervalMs: 250 },
    state: { dir: join(dir, 'state') },
    metrics: { address: `127.0.0.1:${port}` },
  });
  const { client } = daemonWithClient(t, config, ep);
  const bleeding = (h: StatusHeader) => h.gated[joinReasons(['bleeding'])] ?? 0;
  const s = (await waitFor<LumenMessage>(client, (x) => isStatus(x) && bleeding(x.header) > 0, 90_000, 'status counting frames gated for bleeding')) as {
    header: StatusHeader;
  };
  const counted = bleeding(s.header);
  const text = await eventually(
    async () => {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const v = /^lumen_frames_gated_total\{reason="bleeding"\} (\d+)$/m.exec(body);
      return v && Number(v[1]) >= counted ? body : undefined;
    },
    30_000,
    `lumen_frames_gated_total{reason="bleeding"} to reach ${counted}`,
  );
  t.pass(`lumen_frames_gated_total{reason="bleeding"} reached the ${counted} frames status counted`);
  const reasons = [...text.matchAll(/^lumen_frames_gated_total\{reason="([^"]+)"\}/gm)].map((m) => m[1]);
  t.ok(
    reasons.every((r) => r.split(',').every((x) => (QUALITY_REASONS as readonly string[]).includes(x))),
    `every reason label is the gate's own name (${reasons.join(' ')})`,
  );
});

t.test('a metrics address in use: a clear log line, the daemon runs on, and doctor warns', async (t) => {
  const dir = tempDir();
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => holder.close(() => r())));
  const address = `127.0.0.1:${(holder.address() as { port: number }).port}`;
  const { config, ep } = await daemonConfig(dir, address);

  const doctor = lumen(['doctor', '--config', config, '--json']);
  await doctor.exited;
  const report = JSON.parse(doctor.stdout()) as { checks: { name: string; verdict: string; detail: string }[] };
  const m = report.checks.find((c) => c.name === 'metrics');
  t.equal(m?.verdict, 'WARN', 'doctor: WARN on the metrics address');
  t.match(m?.detail, address, 'naming the address');

  const { daemon, client } = daemonWithClient(t, config, ep);
  const s = (await waitFor<LumenMessage>(client, (x) => isStatus(x) && x.header.processed > 5, 60_000, 'frames processed without metrics')) as {
    header: StatusHeader;
  };
  t.ok(s.header.processed > 5, 'the daemon processes frames');
  const line = daemon
    .stderr()
    .split('\n')
    .find((l) => l.includes('"msg":"metrics not served'));
  t.ok(line, 'a log line says metrics are not served');
  t.match(JSON.parse(line ?? '{}'), { level: 40, code: 'EADDRINUSE', address }, 'a warning with the code and the address');
});

t.test('doctor: a free metrics address is OK; a malformed one is a config error', async (t) => {
  const dir = tempDir();
  const { config } = await daemonConfig(dir, `127.0.0.1:${await freePort()}`);
  const ok = lumen(['doctor', '--config', config, '--json']);
  await ok.exited;
  t.equal((JSON.parse(ok.stdout()) as { checks: { name: string; verdict: string }[] }).checks.find((c) => c.name === 'metrics')?.verdict, 'OK');
  const bad = (await daemonConfig(dir, 'localhost')).config;
  const r = lumen(['run', '--config', bad]);
  t.teardown(() => stop(r));
  const e = await r.exited;
  t.equal(e.code, 2, 'refused with exit 2');
  t.match(r.stderr(), /CONFIG_INVALID/, 'with its error code');
  t.match(r.stderr(), /metrics\.address/, 'naming the key');
});

t.test('the alert rules in docs/fleet pass promtool check rules; the dashboard is Grafana JSON with PromQL targets', async (t) => {
  const r = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.match(r.stdout, /SUCCESS: 6 rules found/);
  const names = [...readFileSync(RULES, 'utf8').matchAll(/alert: (\w+)/g)].map((m) => m[1]);
  t.same(names, ['LumenNoFrames', 'LumenDown', 'LumenDegraded', 'LumenDiskLow', 'LumenTemperatureHigh', 'LumenRecordingStopped']);
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  const exprs = d.panels.flatMap((p) => p.targets.map((x) => x.expr));
  t.ok(exprs.length >= 12, 'every panel has a query');
  // promtool parses each query as a recording rule: a PromQL syntax error fails here.
  const dir = tempDir();
  const file = join(dir, 'dashboard-queries.yml');
  const q = (e: string) => e.replaceAll('$instance', '.+');
  writeFileSync(
    file,
    `groups:\n  - name: dashboard\n    rules:\n${exprs.map((e, i) => `      - record: lumen:dashboard_query_${i}\n        expr: ${JSON.stringify(q(e))}\n`).join('')}`,
  );
  const c = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  t.equal(c.status, 0, `dashboard queries parse: ${c.stdout}${c.stderr}`);
});
