import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analysisLaunch } from '../runtime/capture/analysis-stream.js';
import { Capture } from '../runtime/capture/capture.js';
import { parseConfig } from '../runtime/config/load.js';
import { SceneRenderer } from '../runtime/feed/scene.js';
import { makeSceneSpec } from '../runtime/feed/schedule.js';
import type { Frame } from '../runtime/frame.js';
import { createLogger } from '../runtime/log.js';
import { encodePng } from '../runtime/util/image-codec.js';
import { endpoints, lumen, ROOT, tempDir, writeConfig } from './helpers/daemon.js';

const log = createLogger('t', 'silent');
const PIPELINES = join(ROOT, 'pipelines');

/** A synthetic endoscopy frame of that size as a PNG file. */
async function png(dir: string, name: string, width: number, height: number): Promise<string> {
  const spec = makeSceneSpec({ width, height, fps: 10, seconds: 1, seed: 5, episodes: 'demo' });
  const file = join(dir, name);
  writeFileSync(file, await encodePng({ width, height, data: new SceneRenderer(spec).render(0).data }));
  return file;
}

t.test('a template as written gets the analysis stream; the full picture stays in GStreamer', async (t) => {
  const tail = 'filesrc location=x ! decodebin ! videoconvert ! video/x-raw,format=RGBA ! appsink name=sink max-buffers=2 drop=true';
  const { launch, scaler } = analysisLaunch(tail, { width: 960, height: 540 }, 'x');
  t.ok(scaler, 'with the analysis scaler');
  t.match(
    launch,
    /^filesrc location=x ! decodebin ! queue [^!]* ! videoscale name=lumen_scale ! video\/x-raw,width=\[1,960\],height=\[1,540\]/,
    'scaled before it is converted',
  );
  t.match(
    launch,
    /videoconvert ! video\/x-raw,format=RGBA ! appsink name=sink max-buffers=2 drop=true$/,
    'then converted to RGBA for the appsink, with its properties',
  );
  t.notMatch(launch, /leaky|tee/, 'the analysis stream never drops before the appsink (a file stays paced by the sink), and nothing else leaves the source');
  t.same(analysisLaunch(launch, { width: 960, height: 540 }, 'x'), { launch, scaler: false }, 'a line already rewritten is left alone');
  t.same(analysisLaunch(tail, null, 'x'), { launch: tail, scaler: false }, '"full" keeps the old line');
  t.throws(() => analysisLaunch('videotestsrc ! fakesink', { width: 960, height: 540 }, 'odd'), {
    code: 'PIPELINE_TEMPLATE',
    message: /"odd" does not end in "appsink name=sink/,
  });
});

t.test('a live 1920×1080 source reaches JavaScript at 960×540 and says its own size', async (t) => {
  const dir = tempDir();
  const still = await png(dir, 'hd.png', 1920, 1080);
  const cap = await Capture.open(
    {
      pipelinesDir: PIPELINES,
      template: 'still-live',
      params: { location: still, fps: '30' },
      mode: 'live',
      loop: false,
      readyTimeoutMs: 20000,
      analysis: { width: 960, height: 540 },
    },
    log,
  );
  t.teardown(() => cap.close());
  const frames: Frame[] = [];
  for (let i = 0; i < 5; i++) frames.push((await cap.next())!);
  t.ok(
    frames.every((f) => f.width === 960 && f.height === 540 && f.data.length === 960 * 540 * 4),
    'frames are 960×540 RGBA',
  );
  t.ok(
    frames.every((f) => f.full?.width === 1920 && f.full.height === 1080),
    'each frame carries the source size 1920×1080',
  );
  t.same(cap.sourceSize, { width: 1920, height: 1080 });
});

t.test('a source smaller than the analysis size passes unscaled; a 5:4 source keeps its shape', async (t) => {
  const dir = tempDir();
  const small = await png(dir, 'small.png', 640, 480);
  const sxga = await png(dir, 'sxga.png', 1280, 1024);
  const open = (location: string) =>
    Capture.open(
      {
        pipelinesDir: PIPELINES,
        template: 'still-live',
        params: { location, fps: '30' },
        mode: 'live',
        loop: false,
        readyTimeoutMs: 20000,
        analysis: { width: 960, height: 540 },
      },
      log,
    );
  const a = await open(small);
  const fa = (await a.next())!;
  a.close();
  t.same([fa.width, fa.height, fa.full], [640, 480, undefined], '640×480 stays 640×480 (no upscale, no full size needed)');
  const b = await open(sxga);
  const fb = (await b.next())!;
  b.close();
  t.equal(fb.height, 540, 'scaled to the height limit');
  t.ok(Math.abs(fb.width / fb.height - 1280 / 1024) < 0.01, `aspect kept (${fb.width}×${fb.height})`);
  t.same(fb.full, { width: 1280, height: 1024 }, 'source size reported');
});

/** A PNG sequence of those sizes and a template that plays it, one file a frame. */
async function pngSequence(dir: string, sizes: [number, number][]): Promise<{ pipelinesDir: string; params: Record<string, string> }> {
  const seq = join(dir, 'seq');
  mkdirSync(seq);
  const cache = new Map<string, Buffer>();
  for (const [i, [w, h]] of sizes.entries()) {
    const key = `${w}x${h}`;
    if (!cache.has(key)) {
      const spec = makeSceneSpec({ width: w, height: h, fps: 10, seconds: 1, seed: 5, episodes: 'demo' });
      cache.set(key, await encodePng({ width: w, height: h, data: new SceneRenderer(spec).render(0).data }));
    }
    writeFileSync(join(seq, `${String(i).padStart(2, '0')}.png`), cache.get(key)!);
  }
  const tpl = join(dir, 'pipelines');
  mkdirSync(tpl);
  writeFileSync(
    join(tpl, 'png-sequence.pipeline'),
    '# param location - printf pattern of the files\n# param last - index of the last file\nmultifilesrc location={location} index=0 stop-index={last} caps=image/png,framerate=10/1 ! pngdec ! videoconvert ! video/x-raw,format=RGBA ! appsink name=sink {sink}\n',
  );
  return { pipelinesDir: tpl, params: { location: join(seq, '%02d.png'), last: String(sizes.length - 1) } };
}

const repeat = (n: number, size: [number, number]) => new Array<[number, number]>(n).fill(size);

/** Every frame of a PNG sequence of those sizes, captured in QA order at a 960×540 analysis size. */
async function playSequence(t: { teardown(fn: () => unknown): void }, sizes: [number, number][]): Promise<Frame[]> {
  const cap = await Capture.open(
    {
      ...(await pngSequence(tempDir(), sizes)),
      template: 'png-sequence',
      mode: 'every-frame',
      loop: false,
      readyTimeoutMs: 20000,
      analysis: { width: 960, height: 540 },
    },
    log,
  );
  t.teardown(() => cap.close());
  const got: Frame[] = [];
  for await (const f of cap) got.push(f);
  return got;
}

t.test('a source whose resolution changes mid-stream: the source size follows, frame by frame', async (t) => {
  // 1920×1080, then a 5:4 processor output, then 1280×720 (the analysis size repeats: 960×540).
  const sizes = [...repeat(6, [1920, 1080]), ...repeat(6, [1280, 1024]), ...repeat(6, [1280, 720])];
  const got = await playSequence(t, sizes);
  t.equal(got.length, sizes.length, 'QA order: every frame, none held back');
  for (const f of got) {
    const [w, h] = sizes[f.id];
    t.same(f.full ?? { width: f.width, height: f.height }, { width: w, height: h }, `frame ${f.id}: source ${w}×${h}, analysis ${f.width}×${f.height}`);
  }
});

t.test('a change of resolution that keeps the analysis shape (1080p to 720p): the source size follows', async (t) => {
  const sizes = [...repeat(8, [1920, 1080]), ...repeat(8, [1280, 720])];
  const got = await playSequence(t, sizes);
  t.equal(got.length, sizes.length);
  t.ok(
    got.every((f) => f.width === 960 && f.height === 540),
    'every analysis picture is 960×540',
  );
  // The frames already scaled when the change reaches the scaler (a few) may carry the old size;
  // the first frames and the last ones are unambiguous.
  t.same(got[0].full, { width: 1920, height: 1080 }, 'the first frame: 1920×1080');
  t.same(
    got.slice(-3).map((f) => f.full),
    repeat(3, [1280, 720]).map(([width, height]) => ({ width, height })),
    'the last frames: 1280×720',
  );
});

t.test('analysisSize: zero, odd or malformed refused with the key; larger than the source refused at start', async (t) => {
  for (const bad of ['0x0', '961x540', '960', '960x540x2', '9000x540']) {
    t.throws(() => parseConfig({ capture: { analysisSize: bad } }), { code: 'CONFIG_INVALID', message: /capture\.analysisSize/ }, `"${bad}" refused`);
  }
  t.equal(parseConfig({ capture: { analysisSize: 'full' } }).capture.analysisSize, 'full', '"full" keeps the old behaviour');
  const dir = tempDir();
  const small = await png(dir, 'small.png', 640, 480);
  const config = writeConfig(dir, {
    capture: { pipeline: 'still-live', params: { location: small, fps: 10 }, analysisSize: '1280x720' },
    inference: { providers: ['cpu'] },
    state: { dir: join(dir, 'state') },
    publish: await endpoints(),
  });
  const run = lumen(['run', '--config', config]);
  const r = await run.exited;
  t.equal(r.code, 2, 'exit 2: refused input');
  t.match(run.stderr(), /CONFIG_INVALID: capture\.analysisSize 1280x720 is larger than the source \(640×480\)/, 'names the key and both sizes');
});
