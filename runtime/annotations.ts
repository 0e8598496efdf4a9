/**
 * The annotation format (v1, docs/qa.md): the truth a recorded feed carries, per frame. Written by
 * the feed generator and the recorder, read by QA replay and the built-in config.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { LumenError } from './errors.js';
import { UNGRADABLE_REASONS } from './quality/gate-reasons.js';

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
  reason: z.enum(UNGRADABLE_REASONS).optional(),
  mask: RleSchema.optional(),
});

const RectSchema = z.strictObject({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

/** The appliance's decision on one recorded frame (a recording's sidecar, docs/recording.md). */
const ApplianceFrameSchema = z.strictObject({
  index: z.number().int().nonnegative(),
  /** The frame's id on the appliance and its capture time (ms since the epoch). */
  frameId: z.number().int(),
  ts: z.number(),
  score: z.number().min(0).max(1).nullable(),
  smoothed: z.number().min(0).max(1).nullable(),
  alert: z.boolean(),
  gated: z.string().nullable(),
  /** Lesion box in the video's pixels. */
  box: RectSchema.nullable(),
});

/** What the appliance decided while it recorded the video: `lumen replay` compares a new run with it. */
const ApplianceSchema = z.strictObject({
  models: z.array(z.strictObject({ id: z.string(), version: z.string() })),
  decision: z.record(z.string(), z.number()),
  alert: z
    .strictObject({ episode: z.number().int(), onsetFrame: z.number().int(), raiseFrame: z.number().int(), clearFrame: z.number().int().nullable() })
    .optional(),
  frames: z.array(ApplianceFrameSchema),
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
  activeArea: RectSchema.optional(),
  /**
   * Lines of burned-in on-screen text (synthetic feeds), for ROI and privacy checks: no model
   * input or published frame should contain them. Masks and labels never include the text.
   */
  textRegions: z.array(z.strictObject({ x: z.number(), y: z.number(), width: z.number(), height: z.number(), onBorder: z.boolean() })).optional(),
  /** How the feed was made (generator seed and options), for the record. */
  source: z.record(z.string(), z.unknown()).optional(),
  /**
   * false: nobody has labelled the video yet (an appliance recording): replay measures no truth
   * metric and `frames` must be empty. Absent or true: `frames` is the truth (unlisted = normal).
   */
  labelled: z.boolean().optional(),
  frames: z.array(FrameAnnotationSchema),
  /** The appliance's own decisions, on recordings it made (docs/recording.md). */
  appliance: ApplianceSchema.optional(),
});

export type Annotations = z.infer<typeof AnnotationsSchema>;
export type FrameAnnotation = z.infer<typeof FrameAnnotationSchema>;
export type ApplianceDecision = z.infer<typeof ApplianceFrameSchema>;

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
  if (a.labelled === false && a.frames.length > 0) {
    throw new LumenError(
      'FEED_INVALID',
      `${path}: frames: ${a.frames.length} frames carry truth but labelled is false: set "labelled": true once the labels are complete`,
      { path, entry: 'labelled' },
    );
  }
  const decided = new Set<number>();
  for (const [i, f] of (a.appliance?.frames ?? []).entries()) {
    const where = `${path}: appliance.frames.${i} (frame ${f.index})`;
    if (f.index >= a.frameCount)
      throw new LumenError('FEED_INVALID', `${where}: index beyond frameCount ${a.frameCount}`, { path, entry: `appliance.frames.${i}` });
    if (decided.has(f.index)) throw new LumenError('FEED_INVALID', `${where}: frame listed twice`, { path, entry: `appliance.frames.${i}` });
    decided.add(f.index);
  }
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
