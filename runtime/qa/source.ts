import { stat } from 'node:fs/promises';
import { LumenError } from '../errors.js';
import type { ApplianceDecision } from '../annotations.js';
import type { FrameLabel } from '../feed/scene.js';
import type { Frame } from '../frame.js';
import type { Logger } from '../log.js';
import { StillSource } from './still-source.js';
import { VideoSource } from './video-source.js';

/** The ground truth of one frame, in that frame's pixel coordinates. */
export interface FrameTruth {
  index: number;
  label: FrameLabel;
  /** 1 where the lesion is (width × height of the frame); null when no lesion is in view. */
  mask: Uint8Array | null;
  /** Pixels set in `mask`. */
  lesionPx: number;
  /** Where the frame came from, for error messages and the report (a file name for stills). */
  name: string;
  /** Why an ungradable frame is, where the annotations say (gate reason names). */
  reason?: string;
}

export interface TruthFrame {
  frame: Frame;
  truth: FrameTruth;
}

/** Describes what is replayed; every field is deterministic (no dates, no timings). */
export interface SourceInfo {
  kind: 'video' | 'stills';
  /** The video file, or the folder holding images/ and masks/. */
  path: string;
  /** The annotation file (video) or the masks folder (stills). */
  truth: string;
  frameCount: number;
  /** Frames per second: the annotations' rate (video) or the nominal rate given for stills. */
  fps: number;
  /** Frame size; null when still images differ in size. */
  width: number | null;
  height: number | null;
  /** false: an appliance recording nobody labelled yet (no truth metrics). */
  labelled: boolean;
  /** The annotations carry the appliance's own decisions (an appliance recording). */
  appliance: boolean;
}

/** A recorded feed and its truth, frame after frame in order; nothing is dropped. */
export interface ReplaySource extends AsyncIterable<TruthFrame> {
  readonly info: SourceInfo;
  /** The appliance's decision per frame, for a recording it made (else absent). */
  readonly appliance?: readonly ApplianceDecision[];
  /** Stops reading; safe to call twice. */
  close(): void;
}

export interface SourceOptions {
  /** Annotation file of a video; default `X.annotations.json` beside `X.mkv`. */
  annotations?: string;
  /** Nominal frame rate of a still-image set (alert timings); default 1. */
  stillFps?: number;
  /** How long to wait for the video's first frame, ms. */
  readyTimeoutMs: number;
  /** The live path's analysis size (capture.analysisSize), so QA measures what the appliance runs. */
  analysis?: { width: number; height: number } | null;
}

/**
 * Opens `path`: a folder with images/ and masks/ is a still-image set, anything else a video
 * with its annotation file. Every problem is a FEED_INVALID naming the file (and the entry).
 */
export async function openSource(path: string, opts: SourceOptions, log: Logger): Promise<ReplaySource> {
  const s = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new LumenError('FEED_INVALID', `${path}: ${err.code === 'ENOENT' ? 'no such file or folder' : err.message}`, { path });
  });
  if (s.isDirectory()) {
    if (opts.annotations) {
      throw new LumenError('USAGE', `--annotations ${opts.annotations}: ${path} is a still-image folder; its truth is its masks/ folder`);
    }
    return StillSource.open(path, opts.stillFps ?? 1);
  }
  return VideoSource.open(path, opts, log);
}
