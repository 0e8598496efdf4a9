import t from 'tap';
import { join } from 'node:path';
import { SHARED_DATA, tempDir, writeConfig } from './helpers/daemon.js';
import { runLumen } from './helpers/qa-feeds.js';

// A real Kvasir-SEG frame (622×529) with the processor's date and settings text over the picture
// on the left, and a large one (1348×1070) that the live path would scale down. Read in place.
const KVASIR = join(SHARED_DATA, 'kvasir-seg', 'images', 'cju0qkwl35piu0993l0dewei2.jpg');
const LARGE = join(SHARED_DATA, 'kvasir-seg', 'images', 'cju2r91dg2k090801bh0xzbxk.jpg');

interface Report {
  analysed: { width: number; height: number };
  roi: { width: number };
  gated: boolean;
  reasons: string[];
  explanation: string[];
  privacyMasks: number;
  text: { x: number; y: number; width: number; height: number; inPicture: boolean }[];
}

async function inspect(args: string[]): Promise<Report[]> {
  const r = await runLumen(['frame', 'inspect', '--json', ...args]);
  if (r.code !== 0) throw new Error(`lumen frame inspect exited ${r.code}: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Report);
}

t.test('frame inspect --config says what the daemon will do under that config', async (t) => {
  const [plain] = await inspect([KVASIR]);
  t.same(plain.reasons, []);
  const block = plain.text.find((b) => b.inPicture && b.x < 60);
  t.ok(block, 'the text over the picture on the left is found without a site config');
  t.equal(plain.privacyMasks, 0);

  const dir = tempDir('lumen-inspect-');
  // The site masks the text block: it no longer shows, and the verdict still holds.
  const masked = writeConfig(dir, { roi: { privacyMasks: [{ x: block!.x, y: block!.y, width: block!.width, height: block!.height }] } }, 'masked.json');
  const [m] = await inspect(['--config', masked, KVASIR]);
  t.equal(m.privacyMasks, 1);
  t.notOk(
    m.text.some((b) => b.x < block!.x + block!.width && b.y < block!.y + block!.height && b.x + b.width > block!.x && b.y + b.height > block!.y),
    'the masked block is not proposed again',
  );
  t.same(m.reasons, []);

  // The site's thresholds are the ones applied, and the explanation names the limit.
  const strict = writeConfig(dir, { quality: { minUsableFraction: 1, minSharpness: 5 } }, 'strict.json');
  const [s] = await inspect(['--config', strict, KVASIR]);
  t.same(s.reasons, ['blurred']);
  t.match(s.explanation.join('\n'), /sharpness [\d.]+ over the picture < 5/);
  const off = writeConfig(dir, { quality: { enabled: false } }, 'off.json');
  const [o] = await inspect(['--config', off, KVASIR]);
  t.equal(o.gated, false);
  t.same(o.explanation, ['quality gate off in this config']);
});

t.test('frame inspect scales large frames to the analysis size; coordinates stay in frame pixels', async (t) => {
  const [big] = await inspect([LARGE]);
  t.same(big.analysed, { width: 680, height: 540 }, '1348×1070 is analysed at 680×540 (fits 960×540)');
  t.ok(big.roi.width > 1300, `the ROI is given in full-frame pixels (${big.roi.width} wide)`);
  const [small] = await inspect(['--analysis-size', '320x240', LARGE]);
  t.same(small.analysed, { width: 302, height: 240 });
  t.same(small.reasons, []);
  // The site config's capture.analysisSize is the one the daemon uses: so does inspect.
  const site = writeConfig(tempDir('lumen-inspect-'), { capture: { analysisSize: '320x240' } }, 'site.json');
  const [fromConfig] = await inspect(['--config', site, LARGE]);
  t.same(fromConfig.analysed, { width: 302, height: 240 }, 'capture.analysisSize from --config');
  const full = writeConfig(tempDir('lumen-inspect-'), { capture: { analysisSize: 'full' } }, 'full.json');
  const [whole] = await inspect(['--config', full, LARGE]);
  t.same(whole.analysed, { width: 1348, height: 1070 }, 'analysisSize "full": the frame as it is');
  const bad = await runLumen(['frame', 'inspect', '--analysis-size', 'big', LARGE]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /USAGE: --analysis-size big/);
  const missing = await runLumen(['frame', 'inspect', join(tempDir('lumen-inspect-'), 'nope.png'), KVASIR]);
  t.equal(missing.code, 2, 'a missing file: exit 2, the other image still inspected');
  t.match(missing.stderr, /IMAGE_INVALID: .*nope\.png/);
  t.match(missing.stdout, /cju0qkwl35piu0993l0dewei2\.jpg 622×529/);
});
