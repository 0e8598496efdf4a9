import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LumenClient } from '../runtime/client/client.js';
import { TOPICS, type OverlayHeader } from '../runtime/publish/protocol.js';
import { decodeImage } from '../runtime/util/image-codec.js';
import { endpoints, logOnFailure, lumen, stop, tempDir, waitFor, writeConfig } from './helpers/daemon.js';
import { shortDemoFeed } from './helpers/feeds.js';

t.test('lumen watch --save-overlays draws geometry-only overlays into PNGs on the monitor side', async (t) => {
  const feed = await shortDemoFeed();
  const dir = tempDir();
  const out = join(dir, 'overlays');
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: true },
    inference: { providers: ['cpu'] },
    publish: ep,
    state: { dir: join(dir, 'state') },
  });
  const daemon = lumen(['run', '--config', config]);
  const watch = lumen(['watch', '--endpoint', ep.endpoint, '--history', ep.historyEndpoint, '--save-overlays', out]);
  // A second subscriber keeps the headers, to compare each saved picture with what was sent.
  const client = new LumenClient({ ...ep, topics: [TOPICS.overlay] });
  t.teardown(async () => {
    client.close();
    logOnFailure(t, daemon);
    logOnFailure(t, watch, 'watch');
    await stop(watch);
    await stop(daemon);
  });
  const boxed: OverlayHeader[] = [];
  let payloads = 0;
  let saved: OverlayHeader | undefined;
  const name = (h: OverlayHeader) => `${String(h.frameId).padStart(6, '0')}.png`;
  await waitFor(
    client,
    (m) => {
      if (m.topic !== TOPICS.overlay) return false;
      if (m.payload) payloads++;
      if (m.header.box !== null && m.header.geometry.contours.length > 0) boxed.push(m.header);
      // lumen watch writes its file a moment after the header reaches both subscribers (and makes
      // the folder with its first file).
      const files = new Set(existsSync(out) ? readdirSync(out) : []);
      saved = boxed.find((h) => files.has(name(h)));
      return saved !== undefined;
    },
    120_000,
    'an overlay with a lesion outline, saved by lumen watch',
  );
  t.equal(payloads, 0, 'no PNG came from the daemon');
  const h = saved;
  const file = join(out, name(h!));
  // The file may still be being written when it first appears: read it once it is whole.
  let img: Awaited<ReturnType<typeof decodeImage>> | undefined;
  for (const until = Date.now() + 10_000; !img && Date.now() < until;)
    img = await decodeImage(file).catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)));
  if (!img) throw new Error(`${file} never became a readable PNG`);
  t.same([img.width, img.height], [h!.width, h!.height], "the PNG is the source's size");
  // The outline's first vertex lies on the drawn contour (within the line's width).
  const [x0, y0] = h!.geometry.contours[0];
  let near = 0;
  for (let y = y0 - 3; y <= y0 + 3; y++)
    for (let x = x0 - 3; x <= x0 + 3; x++)
      if (x >= 0 && y >= 0 && x < img.width && y < img.height && img.data[(y * img.width + x) * 4 + 3] === 255 && img.data[(y * img.width + x) * 4 + 1] === 255)
        near++;
  t.ok(near > 0, `contour pixels drawn at the outline's vertex ${x0},${y0}`);
  let outside = 0;
  const r = h!.roi;
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++)
      if (img.data[(y * img.width + x) * 4 + 3] && (x < r.x || y < r.y || x >= r.x + r.width || y >= r.y + r.height)) outside++;
  t.equal(outside, 0, 'nothing drawn outside the ROI');
});
