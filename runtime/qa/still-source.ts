import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { LumenError, messageOf } from '../errors.js';
import { decodeImage, type RgbaImage } from '../util/image-codec.js';
import type { FrameTruth, ReplaySource, SourceInfo, TruthFrame } from './source.js';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);
/** Mask pixels at or above this (first channel, 0–255) are lesion: JPEG masks carry noise, some PNG masks faint grey. */
export const MASK_THRESHOLD = 128;

/**
 * A folder of still images with a parallel folder of masks (`images/X.png` ↔ `masks/X.png`,
 * any image extension), replayed as frames in natural name order (1, 2, …, 10). A frame whose
 * mask has lesion pixels is labelled `egc`, else `normal`. Images may differ in size.
 */
export class StillSource implements ReplaySource {
  private closed = false;

  private constructor(
    readonly info: SourceInfo,
    private readonly images: string[],
    private readonly masks: string[],
  ) {}

  static async open(dir: string, fps: number): Promise<StillSource> {
    const imagesDir = join(dir, 'images');
    const masksDir = join(dir, 'masks');
    const list = async (d: string) =>
      (
        await readdir(d).catch((err: Error) => {
          throw new LumenError('FEED_INVALID', `${d}: a still-image set needs images/ and masks/ folders (${messageOf(err)})`, { path: d });
        })
      ).filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()));
    const images = (await list(imagesDir)).sort(naturalCompare);
    const maskFiles = await list(masksDir);
    if (images.length === 0) throw new LumenError('FEED_INVALID', `${imagesDir}: no images (.png, .jpg, …)`, { path: imagesDir });
    const byStem = new Map<string, string>();
    for (const m of maskFiles) byStem.set(stem(m), m);
    const masks = images.map((img) => {
      const m = maskFiles.includes(img) ? img : byStem.get(stem(img));
      if (!m) throw new LumenError('FEED_INVALID', `${join(masksDir, img)}: no mask for image ${join(imagesDir, img)}`, { path: join(imagesDir, img) });
      return m;
    });
    const info: SourceInfo = {
      kind: 'stills',
      path: dir,
      truth: masksDir,
      frameCount: images.length,
      fps,
      width: null,
      height: null,
      labelled: true,
      appliance: false,
    };
    return new StillSource(
      info,
      images.map((f) => join(imagesDir, f)),
      masks.map((f) => join(masksDir, f)),
    );
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TruthFrame> {
    for (let index = 0; index < this.images.length && !this.closed; index++) {
      const imagePath = this.images[index];
      const maskPath = this.masks[index];
      const image = await decode(imagePath);
      const maskImage = await decode(maskPath);
      if (maskImage.width !== image.width || maskImage.height !== image.height) {
        throw new LumenError(
          'FEED_INVALID',
          `${maskPath}: the mask is ${maskImage.width}×${maskImage.height}, its image ${basename(imagePath)} is ${image.width}×${image.height}`,
          { path: maskPath, entry: basename(imagePath) },
        );
      }
      const n = image.width * image.height;
      const channels = maskImage.data.length / n;
      const mask = new Uint8Array(n);
      let lesionPx = 0;
      for (let p = 0; p < n; p++) {
        if (maskImage.data[p * channels] >= MASK_THRESHOLD) {
          mask[p] = 1;
          lesionPx++;
        }
      }
      const truth: FrameTruth = { index, label: lesionPx > 0 ? 'egc' : 'normal', mask: lesionPx > 0 ? mask : null, lesionPx, name: basename(imagePath) };
      const frame = { id: index, ts: Math.round((index * 1000) / this.info.fps), width: image.width, height: image.height, data: toRgba(image) };
      yield { frame, truth };
    }
  }

  close(): void {
    this.closed = true;
  }
}

async function decode(path: string): Promise<RgbaImage> {
  try {
    return await decodeImage(path);
  } catch (err) {
    throw new LumenError('FEED_INVALID', `${path}: cannot decode the image (${messageOf(err)})`, { path });
  }
}

/**
 * decodeImage gives RGBA for colour files but grey + alpha (2 channels) for greyscale ones:
 * frames must be RGBA, so grey is spread to R, G and B here.
 */
function toRgba(img: RgbaImage): Uint8Array {
  const n = img.width * img.height;
  const channels = img.data.length / n;
  if (channels === 4) return img.data;
  const out = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    const g = img.data[p * channels];
    out[p * 4] = g;
    out[p * 4 + 1] = channels >= 3 ? img.data[p * channels + 1] : g;
    out[p * 4 + 2] = channels >= 3 ? img.data[p * channels + 2] : g;
    out[p * 4 + 3] = 255;
  }
  return out;
}

function stem(file: string): string {
  return file.slice(0, file.length - extname(file).length);
}

/** "2.png" before "10.png": digit runs compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
