import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isLumenError, type ErrorCode } from '../runtime/errors.js';
import { loadAnnotations, type Annotations } from '../runtime/annotations.js';
import { BASELINE_ERROR, compare, loadBaseline } from '../runtime/qa/baseline.js';
import { auroc, matchAlerts, type AlertSpan, type FrameRecord } from '../runtime/qa/metrics.js';
import { StillSource } from '../runtime/qa/still-source.js';
import { encodePng } from '../runtime/util/image-codec.js';
import { spawn } from 'node:child_process';
import { CLI, tempDir, writeConfig } from './helpers/daemon.js';
import { CVC_CLINICDB, GOLDEN_BASELINE, makeGoldenFeed, runLumen, writeMiscalibratedClassifier } from './helpers/qa-feeds.js';

interface Report {
  metrics: Record<string, number | null>;
  verdict: { passed: boolean; regressed: string[] } | null;
  frames: { label: string; segmented: boolean; iou: number | null }[];
  run: { framesPerSecond: number };
}

const dir = tempDir('lumen-qa-');
const golden = await makeGoldenFeed(dir);
const truth = await loadAnnotations(golden.annotations);

/** Runs the lumen CLI to its end as user nobody (the test runs as root). */
function runAsNobody(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...args], {
    env: { ...process.env, LUMEN_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    p.once('error', reject);
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** report.json up to its `run` field: the part that must not change between runs. */
function deterministicPart(path: string): string {
  const text = readFileSync(path, 'utf8');
  return text.slice(0, text.indexOf('\n  "run":'));
}

type Asserts = Pick<typeof t, 'ok' | 'match' | 'fail'>;

async function rejectsWith(t: Asserts, p: Promise<unknown>, code: ErrorCode, ...mentions: string[]): Promise<void> {
  try {
    await p;
    t.fail(`expected ${code}`);
  } catch (err) {
    t.ok(isLumenError(err, code), `${code}: ${(err as Error).message}`);
    for (const m of mentions) t.match((err as Error).message, m, `the message names ${m}`);
  }
}

t.test('the golden feed replays to the same metrics twice and passes its baseline', async (t) => {
  const runs = [];
  for (const k of [1, 2]) {
    const out = join(dir, `report-${k}`);
    const r = await runLumen(['replay', golden.video, '--baseline', GOLDEN_BASELINE, '--report', out]);
    t.equal(r.code, 0, `run ${k} exits 0 (stderr: ${r.stderr.trim()})`);
    t.match(r.stdout, /verdict: PASS/);
    runs.push(out);
  }
  const [a, b] = runs.map((d) => JSON.parse(readFileSync(join(d, 'report.json'), 'utf8')) as Report);
  t.equal(JSON.stringify(a.metrics), JSON.stringify(b.metrics), 'metrics are byte-identical');
  t.equal(deterministicPart(join(runs[0], 'report.json')), deterministicPart(join(runs[1], 'report.json')), 'everything but `run` is byte-identical');
  t.equal(readFileSync(join(runs[0], 'junit.xml'), 'utf8'), readFileSync(join(runs[1], 'junit.xml'), 'utf8'), 'junit.xml is identical');

  const m = a.metrics;
  t.equal(m.frames, truth.frameCount, 'every frame replayed');
  t.equal(m.lesionFrames, truth.frames.filter((f) => f.label === 'egc').length, 'lesion frames as annotated');
  t.equal(m.ungradableFrames, truth.frames.filter((f) => f.label === 'ungradable').length, 'ungradable frames as annotated');
  t.equal(m.episodes, 2, 'two lesion episodes');
  t.ok(a.run.framesPerSecond > 0, 'the run section carries the speed');
  const skipped = a.frames.filter((f) => f.label === 'egc' && f.iou !== null && !f.segmented);
  t.ok(skipped.length > 0 && skipped.every((f) => f.iou === 0), 'lesion frames the segmenter skipped count IoU 0');

  const junit = readFileSync(join(runs[0], 'junit.xml'), 'utf8');
  const expected = Object.keys((JSON.parse(readFileSync(GOLDEN_BASELINE, 'utf8')) as { metrics: object }).metrics);
  t.equal((junit.match(/<testcase /g) ?? []).length, expected.length, 'one testcase per baseline metric');
  t.notMatch(junit, /<failure/, 'no failures');

  const html = readFileSync(join(runs[0], 'report.html'), 'utf8');
  t.match(html, /<svg/, 'inline SVG plots');
  t.match(html, /data:image\/jpeg;base64,/, 'thumbnails inlined as base64 JPEG');
  t.notMatch(html, /(src|href)\s*=\s*["']?(https?:|\/\/)|<link|<script|@import|url\(/i, 'no external resource');
});

t.test('a broken decision setting fails the verdict and names the metric', async (t) => {
  const config = writeConfig(tempDir(), { decision: { raiseThreshold: 0.99 } });
  const out = join(dir, 'report-late');
  const r = await runLumen(['replay', golden.video, '--config', config, '--baseline', GOLDEN_BASELINE, '--report', out]);
  t.equal(r.code, 3, 'exit 3: regressed');
  t.match(r.stdout, /REGRESSED meanTimeToAlertS/, 'stdout names the metric');
  t.match(r.stderr, /replay regressed: .*meanTimeToAlertS/, 'stderr names it too');
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
  t.equal(report.verdict?.passed, false);
  t.ok(report.verdict?.regressed.includes('meanTimeToAlertS'));
  t.match(readFileSync(join(out, 'junit.xml'), 'utf8'), /<testcase classname="[^"]+" name="meanTimeToAlertS">\s*<failure/, 'junit.xml fails that testcase');
});

t.test('a miscalibrated classifier bundle fails the verdict on sensitivity', async (t) => {
  const models = tempDir();
  const classifier = await writeMiscalibratedClassifier(models);
  const config = writeConfig(models, { inference: { classifier } });
  const r = await runLumen(['replay', golden.video, '--config', config, '--baseline', GOLDEN_BASELINE]);
  t.equal(r.code, 3, 'exit 3: regressed');
  for (const metric of ['sensitivity', 'iou', 'meanTimeToAlertS']) t.match(r.stdout, new RegExp(`REGRESSED ${metric} `), `names ${metric}`);
  t.notMatch(r.stdout, /REGRESSED specificity/, 'and only what regressed');
});

t.test('bad input gets a clear error naming the file and the entry', async (t) => {
  const bad = tempDir();
  const missing = join(bad, 'nothing-here.mkv');
  let r = await runLumen(['replay', missing]);
  t.equal(r.code, 2, 'missing video: exit 2');
  t.match(r.stderr, /FEED_INVALID: .*nothing-here\.mkv: no such file/);

  const garbage = join(bad, 'garbage.mkv');
  writeFileSync(garbage, Buffer.alloc(64 * 1024, 7));
  copyFileSync(golden.annotations, join(bad, 'garbage.annotations.json'));
  r = await runLumen(['replay', garbage]);
  t.equal(r.code, 2, 'unreadable video: exit 2');
  t.match(r.stderr, /FEED_INVALID: .*garbage\.mkv: not a video GStreamer can decode/);

  const noAnn = join(bad, 'alone.mkv');
  copyFileSync(golden.video, noAnn);
  r = await runLumen(['replay', noAnn]);
  t.equal(r.code, 2, 'video without annotations: exit 2');
  t.match(r.stderr, /FEED_INVALID: .*alone\.annotations\.json: no annotation file/);

  const write = (name: string, edit: (a: Annotations) => void) => {
    const a = structuredClone(truth);
    edit(a);
    const p = join(bad, name);
    writeFileSync(p, JSON.stringify(a));
    return p;
  };
  const short = write('short.json', (a) => {
    a.frameCount = 140;
    a.frames = a.frames.filter((f) => f.index < 140);
  });
  r = await runLumen(['replay', golden.video, '--annotations', short]);
  t.equal(r.code, 2, 'annotations for fewer frames: exit 2');
  t.match(r.stderr, /FEED_INVALID: .*short\.json: frameCount: the annotations describe 140 frames, but .*golden\.mkv has more/);
  const long = write('long.json', (a) => (a.frameCount = 200));
  r = await runLumen(['replay', golden.video, '--annotations', long]);
  t.equal(r.code, 2, 'annotations for more frames: exit 2');
  t.match(r.stderr, /long\.json: frameCount: the annotations describe 200 frames, but .*golden\.mkv has 150/);

  const k = truth.frames.findIndex((f) => f.mask);
  const wrongMask = write('wrong-mask.json', (a) => {
    a.frames[k].mask = { size: [120, 160], counts: [120 * 160] };
  });
  await rejectsWith(t, loadAnnotations(wrongMask), 'FEED_INVALID', 'wrong-mask.json', `frames.${k}`, '160×120');
  r = await runLumen(['replay', golden.video, '--annotations', wrongMask]);
  t.equal(r.code, 2, 'mask of the wrong size: exit 2');
  t.match(r.stderr, new RegExp(`wrong-mask\\.json: frames\\.${k} \\(frame \\d+\\): mask is 160×120`));

  // A still-image set whose mask has another size than its image.
  const stills = join(bad, 'stills');
  mkdirSync(join(stills, 'images'), { recursive: true });
  mkdirSync(join(stills, 'masks'));
  const img = (w: number, h: number, v: number) => encodePng({ width: w, height: h, data: new Uint8Array(w * h * 4).fill(v) });
  writeFileSync(join(stills, 'images', 'a.png'), await img(64, 48, 120));
  writeFileSync(join(stills, 'masks', 'a.png'), await img(32, 24, 255));
  const source = await StillSource.open(stills, 1);
  await rejectsWith(
    t,
    (async () => {
      for await (const _ of source) void _;
    })(),
    'FEED_INVALID',
    'masks/a.png',
    '32×24',
    '64×48',
  );

  // Baselines: unparsable, unknown metric, half an expectation, wrong version.
  const baseline = (name: string, text: string) => {
    const p = join(bad, name);
    writeFileSync(p, text);
    return p;
  };
  await rejectsWith(t, loadBaseline(baseline('syntax.json', '{"version": 1, "metrics": {')), BASELINE_ERROR, 'syntax.json', 'cannot read the baseline');
  await rejectsWith(
    t,
    loadBaseline(baseline('typo.json', '{"version":1,"metrics":{"sensitivty":{"min":0.9}}}')),
    BASELINE_ERROR,
    'typo.json',
    'metrics.sensitivty',
    'no such metric',
  );
  await rejectsWith(
    t,
    loadBaseline(baseline('half.json', '{"version":1,"metrics":{"iou":{"value":0.6}}}')),
    BASELINE_ERROR,
    'half.json',
    'metrics.iou',
    'value and tolerance go together',
  );
  await rejectsWith(t, loadBaseline(baseline('v2.json', '{"version":2,"metrics":{"iou":{"min":0.6}}}')), BASELINE_ERROR, 'v2.json', 'version');
  await rejectsWith(
    t,
    loadBaseline(baseline('extra.json', '{"version":1,"metrics":{"iou":{"min":0.6,"mni":1}}}')),
    BASELINE_ERROR,
    'extra.json',
    'metrics.iou',
    'mni',
  );
  r = await runLumen(['replay', golden.video, '--baseline', join(bad, 'typo.json')]);
  t.equal(r.code, 2, 'malformed baseline on the command line: exit 2 before any replay');
  t.match(r.stderr, /typo\.json: metrics\.sensitivty: no such metric/);

  // A file without read permission. Root reads it anyway, so as root the CLI runs as nobody.
  const locked = join(bad, 'locked.mkv');
  copyFileSync(golden.video, locked);
  copyFileSync(golden.annotations, join(bad, 'locked.annotations.json'));
  chmodSync(locked, 0);
  chmodSync(bad, 0o755);
  r = process.getuid?.() === 0 ? await runAsNobody(['replay', locked]) : await runLumen(['replay', locked]);
  t.equal(r.code, 2, 'unreadable file: exit 2');
  t.match(r.stderr, /FEED_INVALID: .*locked\.mkv: cannot read the video/, 'unreadable file: names it');
});

t.test('a still-image set replays: cvc-clinicdb', async (t) => {
  const out = join(dir, 'report-cvc');
  const r = await runLumen(['replay', CVC_CLINICDB, '--report', out]);
  t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr.trim()})`);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report & { source: { kind: string } };
  t.equal(report.source.kind, 'stills');
  t.equal(report.metrics.frames, 30, 'all 30 frames');
  t.equal(report.metrics.lesionFrames, 30, 'every CVC frame has a polyp mask');
  // The reference models find most of these polyps (0.83 sensitivity, IoU 0.16 when this was
  // written; the replay is deterministic): bounds that a model seeing nothing cannot meet.
  const m = report.metrics as Record<string, number>;
  t.ok(m.sensitivity >= 0.7 && m.sensitivity <= 1, `sensitivity ${m.sensitivity} >= 0.7`);
  t.equal(m.accuracy, m.sensitivity, 'every frame is a lesion frame: accuracy is sensitivity');
  t.ok(m.iou > 0.1 && m.iou <= 1, `iou ${m.iou} > 0.1`);
  t.ok(m.dice >= m.iou && m.dice <= 1, `dice ${m.dice} >= iou`);
  t.ok(m.pixelAccuracy > 0.5 && m.pixelAccuracy <= 1, `pixelAccuracy ${m.pixelAccuracy} > 0.5`);
  t.equal(report.metrics.specificity, null, 'no normal frame: specificity undefined');
  t.match(readFileSync(join(out, 'report.html'), 'utf8'), /1\.png/, 'the report names the images');
  t.comment(`cvc-clinicdb: ${JSON.stringify(report.metrics)}`);
});

t.test('metrics: AUROC with ties, alert matching, verdict checks', async (t) => {
  t.equal(
    auroc([
      { score: 0.9, positive: true },
      { score: 0.1, positive: false },
    ]),
    1,
  );
  t.equal(
    auroc([
      { score: 0.5, positive: true },
      { score: 0.5, positive: false },
    ]),
    0.5,
    'a tie counts half',
  );
  t.equal(
    auroc([
      { score: 0.2, positive: true },
      { score: 0.8, positive: false },
      { score: 0.6, positive: true },
    ]),
    0.0,
    'all negatives above',
  );
  t.equal(auroc([{ score: 0.2, positive: true }]), null, 'one class only');

  // 50 frames at 10 fps; lesion on frames 5–14 and 20–22; alerts count until 1 s after.
  const frames: FrameRecord[] = Array.from({ length: 50 }, (_, i) => ({
    index: i,
    label: 'normal',
    lesion: (i >= 5 && i <= 14) || (i >= 20 && i <= 22),
    score: 0,
    smoothed: 0,
    alert: false,
    gated: null,
    segmented: false,
    truthPx: 0,
    predPx: 0,
    iou: null,
    dice: null,
    pixelAccuracy: null,
    falsePositiveArea: null,
  }));
  const spans: AlertSpan[] = [
    { raiseFrame: 7, clearFrame: 9, onsetFrame: 5, peakScore: 0.9, falseAlert: false },
    { raiseFrame: 11, clearFrame: 16, onsetFrame: 10, peakScore: 0.9, falseAlert: false },
    { raiseFrame: 40, clearFrame: null, onsetFrame: 38, peakScore: 0.9, falseAlert: false },
  ];
  for (const s of spans) for (let f = s.raiseFrame; f < (s.clearFrame ?? 50); f++) frames[f].alert = true;
  const eps = matchAlerts(frames, spans, 10, 1);
  t.same(
    eps.map((e) => [e.start, e.end, e.detected, e.timeToAlertS, e.alerts]),
    [
      [5, 14, true, 0.2, 2],
      [20, 22, false, null, 0],
    ],
  );
  t.same(
    spans.map((s) => s.falseAlert),
    [false, false, true],
    'the alert after both episodes is false',
  );

  const v = compare({ sensitivity: 0.8, iou: null } as never, { version: 1, metrics: { sensitivity: { min: 0.9 }, iou: { min: 0.5 } } }, 'b.json');
  t.same(v.regressed, ['sensitivity', 'iou'], 'below min and unmeasured both fail');
  t.match(v.checks[0].message, 'sensitivity 0.8 is below min 0.9');
  const ok = compare({ iou: 0.6 } as never, { version: 1, metrics: { iou: { value: 0.62, tolerance: 0.02 } } }, 'b.json');
  t.ok(ok.passed, 'a value at the edge of its tolerance passes');
});
