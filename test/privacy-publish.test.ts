import t from 'tap';
import { LumenClient, type LumenMessage } from '../runtime/client/client.js';
import { SceneRenderer } from '../runtime/feed/scene.js';
import { makeSceneSpec } from '../runtime/feed/schedule.js';
import type { Rect } from '../runtime/frame.js';
import { TOPICS, type FrameHeader, type OverlayHeader } from '../runtime/publish/protocol.js';
import { findBurnedInText } from '../runtime/roi/privacy.js';
import { decodeImage } from '../runtime/util/image-codec.js';
import { endpoints, logOnFailure, lumen, SHARED_DATA, stop, tempDir, writeConfig } from './helpers/daemon.js';
import { luma, plantText, stillFeed } from './helpers/still-feed.js';

interface Published {
  frame: { header: FrameHeader; image: Awaited<ReturnType<typeof decodeImage>> };
  overlay: { header: OverlayHeader; image: Awaited<ReturnType<typeof decodeImage>> };
}

/** Runs the daemon on a still feed with the given privacy masks; returns one preview and one overlay. */
async function publishedFor(
  t: { teardown(fn: () => unknown): void; passing(): boolean; comment(...m: unknown[]): void },
  img: { width: number; height: number; data: Uint8Array },
  masks: Rect[],
): Promise<Published> {
  const dir = tempDir();
  const video = await stillFeed(dir, img);
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: video }, loop: true },
    roi: { privacyMasks: masks },
    inference: { providers: ['cpu'] },
    // Rendered overlays on: the optional PNG must respect the masks as much as the preview.
    overlay: { png: { enabled: true } },
    publish: { ...ep, preview: { enabled: true, width: 1920, quality: 95 } },
    state: { dir: `${dir}/state` },
  });
  const daemon = lumen(['run', '--config', config]);
  const client = new LumenClient({ ...ep, topics: [TOPICS.frame, TOPICS.overlay] });
  t.teardown(async () => {
    client.close();
    logOnFailure(t, daemon);
    await stop(daemon);
  });
  const got: Partial<Published> = {};
  const deadline = Date.now() + 90_000;
  for await (const m of client as AsyncIterable<LumenMessage>) {
    if (m.topic === TOPICS.frame && !got.frame) got.frame = { header: m.header, image: await decodeImage(m.payload) };
    if (m.topic === TOPICS.overlay && !got.overlay && m.header.score !== null && m.payload)
      got.overlay = { header: m.header, image: await decodeImage(m.payload) };
    if ((got.frame && got.overlay) || Date.now() > deadline) break;
  }
  if (!got.frame || !got.overlay) throw new Error('no preview and overlay published');
  return got as Published;
}

const intersects = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** The preview's pixels inside `r` (full-frame pixels), shrunk by 1 px for JPEG edge ringing. */
function previewLumas(p: Published['frame'], r: Rect): number[] {
  const { roi } = p.header;
  // The preview shows the ROI scaled to its width (and the analysis picture may be smaller).
  const k = p.image.width / roi.width;
  const out: number[] = [];
  for (let py = Math.floor((r.y - roi.y) * k) + 1; py < Math.ceil((r.y + r.height - roi.y) * k) - 1; py++) {
    for (let px = Math.floor((r.x - roi.x) * k) + 1; px < Math.ceil((r.x + r.width - roi.x) * k) - 1; px++) {
      if (px < 0 || py < 0 || px >= p.image.width || py >= p.image.height) continue;
      out.push(luma(p.image.data, (py * p.image.width + px) * 4));
    }
  }
  return out;
}

/** Largest luma of the preview inside `r`. */
const maxLumaIn = (p: Published['frame'], r: Rect) => Math.max(0, ...previewLumas(p, r));

/** Mean luma of the preview inside `r`. */
function meanLumaIn(p: Published['frame'], r: Rect): number {
  const l = previewLumas(p, r);
  return l.reduce((a, b) => a + b, 0) / Math.max(1, l.length);
}

/** Alpha of the overlay PNG inside `r` (full-frame pixels): the largest value. */
function maxAlphaIn(o: Published['overlay'], r: Rect): number {
  let max = 0;
  for (let y = Math.max(0, r.y); y < Math.min(o.image.height, r.y + r.height); y++) {
    for (let x = Math.max(0, r.x); x < Math.min(o.image.width, r.x + r.width); x++) max = Math.max(max, o.image.data[(y * o.image.width + x) * 4 + 3]);
  }
  return max;
}

const contains = (a: Rect, b: Rect) => b.x >= a.x && b.y >= a.y && b.x + b.width <= a.x + a.width && b.y + b.height <= a.y + a.height;

t.test('planted text outside and inside the active area never reaches a published frame', async (t) => {
  const spec = makeSceneSpec({ width: 640, height: 480, fps: 10, seconds: 2, seed: 11, episodes: 'demo' });
  const frame = new SceneRenderer(spec).render(0);
  const a = spec.activeArea;
  const outside: Rect = { x: 16, y: 40, width: 96, height: 48 };
  const inside: Rect = { x: a.x + 40, y: a.y + 80, width: 96, height: 36 };
  t.ok(outside.x + outside.width < a.x, 'the first block lies in the black border');
  plantText(frame.data, spec.width, outside);
  plantText(frame.data, spec.width, inside);
  const p = await publishedFor(t, { width: spec.width, height: spec.height, data: frame.data }, [inside]);
  t.notOk(intersects(p.frame.header.roi, outside), 'the preview (ROI only) excludes the text beside the picture');
  t.ok(intersects(p.frame.header.roi, inside), 'the masked block lies inside the preview');
  t.ok(maxLumaIn(p.frame, inside) < 60, `no pixel of the masked block in the preview (max luma ${maxLumaIn(p.frame, inside).toFixed(0)})`);
  // The same preview shows the picture around the mask: an all-black preview would pass above.
  const beside: Rect = { x: inside.x, y: inside.y + inside.height + 8, width: inside.width, height: 40 };
  t.ok(meanLumaIn(p.frame, beside) > 40, `the preview shows the picture beside the mask (mean luma ${meanLumaIn(p.frame, beside).toFixed(0)})`);
  const o = p.overlay;
  t.equal(o.header.format, 'png', 'the site turned PNG overlays on');
  t.equal(maxAlphaIn(o, inside), 0, 'the overlay PNG draws nothing over the masked block');
  let outsideOpaque = 0;
  for (let y = 0; y < o.image.height; y++) {
    for (let x = 0; x < o.image.width; x++) {
      const inRoi = x >= o.header.roi.x && x < o.header.roi.x + o.header.roi.width && y >= o.header.roi.y && y < o.header.roi.y + o.header.roi.height;
      if (!inRoi && o.image.data[(y * o.image.width + x) * 4 + 3] !== 0) outsideOpaque++;
    }
  }
  t.equal(outsideOpaque, 0, 'the overlay draws nothing outside the ROI');
});

t.test('a Kvasir frame with a privacy mask on its text block: no pixel of the block in the preview', async (t) => {
  const img = await decodeImage(`${SHARED_DATA}kvasir-seg/images/cju0qkwl35piu0993l0dewei2.jpg`);
  const boxes = findBurnedInText({ id: 0, ts: 0, ...img }).filter((b) => b.confidence >= 0.5);
  t.ok(boxes.length >= 1, 'the text block on the left is found');
  const pad = 4;
  const masks = boxes.map((b) => ({
    x: Math.max(0, b.rect.x - pad),
    y: Math.max(0, b.rect.y - pad),
    width: b.rect.width + 2 * pad,
    height: b.rect.height + 2 * pad,
  }));
  // Width and height even: the MJPEG encoder's chroma subsampling wants them so.
  const even = { width: img.width & ~1, height: img.height & ~1 };
  const data = new Uint8Array(even.width * even.height * 4);
  for (let y = 0; y < even.height; y++) data.set(img.data.subarray(y * img.width * 4, (y * img.width + even.width) * 4), y * even.width * 4);
  const p = await publishedFor(t, { ...even, data }, masks);
  for (const m of masks)
    t.ok(
      contains(p.frame.header.roi, m),
      `the mask ${m.x},${m.y} ${m.width}×${m.height} lies inside the published ROI ${JSON.stringify(p.frame.header.roi)}, so the check below examines real pixels`,
    );
  for (const m of boxes) {
    const r = m.rect;
    t.ok(maxLumaIn(p.frame, r) < 60, `no bright text pixel left in ${r.x},${r.y} ${r.width}×${r.height} (max luma ${maxLumaIn(p.frame, r).toFixed(0)})`);
  }
});

t.test('1080p source scaled to the analysis size: masks in full-frame pixels still hide every pixel of the text', async (t) => {
  const spec = makeSceneSpec({ width: 1920, height: 1080, fps: 10, seconds: 2, seed: 11, episodes: 'demo' });
  const frame = new SceneRenderer(spec).render(0);
  const a = spec.activeArea;
  // Odd offsets and sizes: the mask does not fall on the scaler's 2-pixel grid.
  const inside: Rect = { x: a.x + 121, y: a.y + 243, width: 287, height: 109 };
  plantText(frame.data, spec.width, inside);
  const p = await publishedFor(t, { width: spec.width, height: spec.height, data: frame.data }, [inside]);
  t.equal(p.overlay.header.width, 1920, "overlay coordinates are the source's (width)");
  t.equal(p.overlay.header.height, 1080, "overlay coordinates are the source's (height)");
  t.ok(
    p.frame.header.width < p.frame.header.roi.width,
    `the preview is made from the smaller analysis picture (${p.frame.header.width} px for a ${p.frame.header.roi.width} px ROI)`,
  );
  t.ok(contains(p.frame.header.roi, inside), 'the masked block lies inside the published ROI');
  t.ok(maxLumaIn(p.frame, inside) < 60, `no pixel of the masked block in the preview (max luma ${maxLumaIn(p.frame, inside).toFixed(0)})`);
  const beside: Rect = { x: inside.x, y: inside.y + inside.height + 16, width: inside.width, height: 80 };
  t.ok(meanLumaIn(p.frame, beside) > 40, `the preview shows the picture beside the mask (mean luma ${meanLumaIn(p.frame, beside).toFixed(0)})`);
  t.equal(maxAlphaIn(p.overlay, inside), 0, 'the full-frame overlay PNG draws nothing over the masked block');
});
