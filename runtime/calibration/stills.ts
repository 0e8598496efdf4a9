import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative } from 'node:path';
import { LumenError, messageOf } from '../errors.js';
import type { Frame } from '../frame.js';
import { decodeImage, imageSize } from '../util/image-codec.js';

/**
 * Still frames on disk, as a technician or QA hands them over: a folder of images, a folder with
 * images/ and masks/ (the mask beside each image has the same name, any image extension), or a
 * folder of such folders. Each bad file is refused with its own code; the others still load.
 */

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);
/** Smallest and largest frame side accepted, pixels: smaller is no video frame, larger no capture card's. */
export const MIN_SIDE = 32;
export const MAX_SIDE = 8192;
/** Mask pixels at or above this (first channel) are lesion: JPEG masks carry noise, some PNG masks faint grey. */
export const MASK_LEVEL = 128;

/** One image and, where there is one, its mask. */
export interface StillEntry {
  /** Path relative to the folder given, for reports. */
  name: string;
  image: string;
  mask: string | null;
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

async function images(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => IMAGE_EXT.has(extname(f).toLowerCase())).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Lists the frames under root (see above); FOLDER_EMPTY when there are none. */
export async function listStills(root: string): Promise<StillEntry[]> {
  if (!(await isDir(root))) throw new LumenError('FOLDER_EMPTY', `${root}: not a folder`, { path: root });
  const out: StillEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    if (await isDir(join(dir, 'images'))) {
      const masksDir = join(dir, 'masks');
      const masks = (await isDir(masksDir)) ? await images(masksDir) : [];
      const byStem = new Map(masks.map((m) => [m.slice(0, m.length - extname(m).length), m]));
      for (const f of await images(join(dir, 'images'))) {
        const m = masks.includes(f) ? f : byStem.get(f.slice(0, f.length - extname(f).length));
        out.push({ name: relative(root, join(dir, 'images', f)) || f, image: join(dir, 'images', f), mask: m ? join(masksDir, m) : null });
      }
      return;
    }
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(dir, e.name));
      else if (IMAGE_EXT.has(extname(e.name).toLowerCase())) out.push({ name: relative(root, join(dir, e.name)), image: join(dir, e.name), mask: null });
    }
  };
  await walk(root);
  if (out.length === 0) throw new LumenError('FOLDER_EMPTY', `${root}: no images (.png, .jpg, …) in it or in an images/ folder under it`, { path: root });
  return out;
}

/** Reads an image as an RGBA frame: IMAGE_SIZE before decoding an absurd size, IMAGE_INVALID when unreadable. */
export async function loadStill(path: string): Promise<Frame> {
  const size = await imageSize(path).catch((err: unknown) => {
    throw new LumenError('IMAGE_INVALID', `${path}: cannot read the image (${messageOf(err)})`, { path });
  });
  checkSize(path, size.width, size.height);
  const img = await decodeImage(path).catch((err: unknown) => {
    throw new LumenError('IMAGE_INVALID', `${path}: cannot decode the image (${messageOf(err)})`, { path });
  });
  return { id: 0, ts: 0, width: img.width, height: img.height, data: toRgba(img.data, img.width * img.height) };
}

/** Refuses a frame size no capture gives (IMAGE_SIZE). */
export function checkSize(path: string, width: number, height: number): void {
  if (Math.min(width, height) < MIN_SIDE || Math.max(width, height) > MAX_SIDE) {
    throw new LumenError('IMAGE_SIZE', `${path}: ${width}×${height} is not a video frame size (${MIN_SIDE} to ${MAX_SIDE} pixels a side)`, {
      path,
      width,
      height,
    });
  }
}

/** Reads a lesion mask (1 = lesion) that must match width × height (MASK_SIZE otherwise). */
export async function loadMask(path: string, width: number, height: number, image: string): Promise<Uint8Array> {
  const img = await decodeImage(path).catch((err: unknown) => {
    throw new LumenError('IMAGE_INVALID', `${path}: cannot decode the mask (${messageOf(err)})`, { path });
  });
  if (img.width !== width || img.height !== height) {
    throw new LumenError('MASK_SIZE', `${path}: the mask is ${img.width}×${img.height}, its image ${basename(image)} is ${width}×${height}`, { path, image });
  }
  const n = width * height,
    ch = img.data.length / n;
  const m = new Uint8Array(n);
  for (let p = 0; p < n; p++) m[p] = img.data[p * ch] >= MASK_LEVEL ? 1 : 0;
  return m;
}

/** decodeImage gives grey + alpha for greyscale files: frames are RGBA, grey is spread to R, G, B. */
function toRgba(data: Uint8Array, n: number): Uint8Array {
  const ch = data.length / n;
  if (ch === 4) return data;
  const out = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    const g = data[p * ch];
    out[p * 4] = g;
    out[p * 4 + 1] = ch >= 3 ? data[p * ch + 1] : g;
    out[p * 4 + 2] = ch >= 3 ? data[p * ch + 2] : g;
    out[p * 4 + 3] = 255;
  }
  return out;
}
