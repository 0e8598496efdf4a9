import { stringify } from 'yaml';
import type { Frame, Rect } from '../frame.js';
import { encodePng } from '../util/image-codec.js';
import type { RoiProposal } from './propose.js';

/**
 * The proposal as the technician checks it: drawn over a frame (active area green, text on the
 * border yellow, privacy masks red and shaded), and as the `roi` section of a site config with
 * what was found in comments.
 */
export async function proposalPng(frame: Frame, p: RoiProposal): Promise<Buffer> {
  const img = { width: frame.width, height: frame.height, data: new Uint8Array(frame.data) };
  const put = (x: number, y: number, c: readonly number[], a = 1) => {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    const i = (y * img.width + x) * 4;
    for (let k = 0; k < 3; k++) img.data[i + k] = Math.round(img.data[i + k] * (1 - a) + c[k] * a);
    img.data[i + 3] = 255;
  };
  const outline = (r: Rect, c: readonly number[], t: number) => {
    for (let d = 0; d < t; d++) {
      for (let x = r.x; x < r.x + r.width; x++) {
        put(x, r.y + d, c);
        put(x, r.y + r.height - 1 - d, c);
      }
      for (let y = r.y; y < r.y + r.height; y++) {
        put(r.x + d, y, c);
        put(r.x + r.width - 1 - d, y, c);
      }
    }
  };
  const t = Math.max(1, Math.round(Math.max(img.width, img.height) / 400));
  for (const m of p.roi.privacyMasks) {
    for (let y = m.y; y < m.y + m.height; y++) for (let x = m.x; x < m.x + m.width; x++) put(x, y, [255, 0, 0], 0.5);
    outline(m, [255, 0, 0], t);
  }
  for (const s of p.text) if (!s.inPicture) outline(s.rect, [255, 220, 0], t);
  outline(p.activeArea, [0, 255, 0], t);
  return encodePng(img);
}

/** The roi section as YAML, with what was found (and a refusal) in comments. */
export function proposalYaml(p: RoiProposal, from: string): string {
  const a = p.activeArea;
  const lines = [
    `# lumen commission: proposed roi section from ${p.framesUsed} of ${p.framesGiven} frames (${p.width}×${p.height}) of ${from}`,
    `# active area: ${p.shape} at ${a.x},${a.y} ${a.width}×${a.height}, the same in ${p.areaAgreement} of ${p.framesUsed} frames (found on each frame; not a config key)`,
    ...p.text.map(
      (s) =>
        `# text ${s.rect.x},${s.rect.y} ${s.rect.width}×${s.rect.height} on ${s.frames} of ${p.framesUsed} frames: ${s.inPicture ? 'over the picture -> privacy mask' : 'on the border -> removed by blackOutside'}`,
    ),
    `# masks cover ${(p.maskShare * 100).toFixed(1)} % of the active area`,
    ...(p.refused ? [`# REFUSED: ${p.refused}`] : []),
    '# check the PNG beside this file before copying the section into the site config',
  ];
  return lines.join('\n') + '\n' + stringify({ roi: p.roi });
}
