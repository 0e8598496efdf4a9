import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { LumenError } from '../errors.js';

/**
 * Run-length code of a binary mask in row-major order: `counts` alternate runs of 0 and 1,
 * starting with 0 (a mask that starts with 1 has a leading 0-length run). `size` is [h, w].
 */
export interface Rle {
  size: [number, number];
  counts: number[];
}

const RleSchema = z.strictObject({
  size: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  counts: z.array(z.number().int().nonnegative()),
});

const FrameAnnotationSchema = z.strictObject({
  index: z.number().int().nonnegative(),
  label: z.enum(['egc', 'normal', 'ungradable']),
  /** Why an ungradable frame is: the quality gate's reason names (optional; synthetic feeds write it). */
  reason: z.enum(['dark', 'overexposed', 'blurred', 'bubbles', 'bleeding']).optional(),
  mask: RleSchema.optional(),
});

/** Annotation file v1, `<feed>.annotations.json` beside the video (see docs/protocol.md). */
export const AnnotationsSchema = z.strictObject({
  version: z.literal(1),
  video: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fps: z.number().positive(),
  frameCount: z.number().int().positive(),
  /** The endoscope's active area, where known (synthetic feeds). */
  activeArea: z.strictObject({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }).optional(),
  /**
   * Lines of burned-in on-screen text (synthetic feeds), for ROI and privacy checks: no model
   * input or published frame should contain them. Masks and labels never include the text.
   */
  textRegions: z
    .array(z.strictObject({ x: z.number(), y: z.number(), width: z.number(), height: z.number(), onBorder: z.boolean() }))
    .optional(),
  /** How the feed was made (generator seed and options), for the record. */
  source: z.record(z.string(), z.unknown()).optional(),
  frames: z.array(FrameAnnotationSchema),
});

export type Annotations = z.infer<typeof AnnotationsSchema>;
export type FrameAnnotation = z.infer<typeof FrameAnnotationSchema>;

export function encodeRle(mask: Uint8Array, width: number, height: number): Rle {
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let i = 0; i < width * height; i++) {
    const v = mask[i] ? 1 : 0;
    if (v === current) run++;
    else {
      counts.push(run);
      current = v;
      run = 1;
    }
  }
  counts.push(run);
  return { size: [height, width], counts };
}

export function decodeRle(rle: Rle): Uint8Array {
  const [h, w] = rle.size;
  const out = new Uint8Array(w * h);
  let pos = 0;
  rle.counts.forEach((n, k) => {
    if (k % 2 === 1) out.fill(1, pos, pos + n);
    pos += n;
  });
  if (pos !== w * h) throw new Error(`run lengths add up to ${pos}, not ${w}×${h} = ${w * h}`);
  return out;
}

/** Reads and checks an annotation file; every problem names the file and the entry. */
export async function loadAnnotations(path: string): Promise<Annotations> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new LumenError('FEED_INVALID', `${path}: cannot read annotations (${(err as Error).message})`, { path });
  }
  const parsed = AnnotationsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LumenError('FEED_INVALID', `${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, { path, entry: issue.path.join('.') });
  }
  const a = parsed.data;
  const seen = new Set<number>();
  for (const [i, f] of a.frames.entries()) {
    const where = `${path}: frames.${i} (frame ${f.index})`;
    if (f.index >= a.frameCount) throw new LumenError('FEED_INVALID', `${where}: index beyond frameCount ${a.frameCount}`, { path, entry: `frames.${i}` });
    if (seen.has(f.index)) throw new LumenError('FEED_INVALID', `${where}: frame annotated twice`, { path, entry: `frames.${i}` });
    seen.add(f.index);
    if (f.mask) {
      const [h, w] = f.mask.size;
      if (h !== a.height || w !== a.width) {
        throw new LumenError('FEED_INVALID', `${where}: mask is ${w}×${h}, the video is ${a.width}×${a.height}`, { path, entry: `frames.${i}.mask` });
      }
      const total = f.mask.counts.reduce((s, n) => s + n, 0);
      if (total !== w * h) throw new LumenError('FEED_INVALID', `${where}: mask runs cover ${total} pixels, not ${w * h}`, { path, entry: `frames.${i}.mask` });
    }
  }
  return a;
}


/** `X.mkv` → `X.annotations.json`. */
export function annotationsPathFor(video: string): string {
  return video.replace(/\.[^./]+$/, '') + '.annotations.json';
}
