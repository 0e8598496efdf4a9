import type { Rect } from '../frame.js';
import type { ProcessUsage } from '../health/process-usage.js';
import type { PublisherHealth } from './health.js';

/** Wire protocol version; bumped on any incompatible change to a header or payload. */
export const PROTOCOL_VERSION = 1;

export const TOPICS = {
  status: 'lumen.status',
  alert: 'lumen.alert',
  overlay: 'lumen.overlay',
  frame: 'lumen.frame',
  clip: 'lumen.clip',
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

/** Fields every header carries. */
export interface BaseHeader {
  v: number;
  /** Per topic, +1 per message; for alerts it continues across restarts. */
  seq: number;
  /** Processed frame this message is about (-1 for status before the first frame). */
  frameId: number;
  /** Capture time of that frame, ms since epoch (status: send time). */
  ts: number;
  /** Random per daemon start: a change tells subscribers that non-alert seq restarted. */
  bootId: string;
}

export interface Percentiles {
  p50: number;
  p99: number;
}

export interface StatusHeader extends BaseHeader {
  /** `no-signal`: no frame from the source for a second (or it is being re-opened); `error`: the source ended. */
  state: 'starting' | 'running' | 'degraded' | 'no-signal' | 'stopping' | 'error';
  /** Frames processed per second over the last status interval. */
  fps: number;
  captureFps: number;
  captured: number;
  processed: number;
  /** Frames replaced in the mailbox because inference was busy. */
  dropped: number;
  /** Per-stage latency over the last window, ms. */
  latencyMs: Record<string, Percentiles>;
  /** Age of the frame when its overlay was published, ms. */
  frameAgeMs: Percentiles;
  providers: Record<string, string>;
  models: { id: string; version: string; task: string; clinical: boolean }[];
  alert: boolean;
  /** Seq of the newest journalled alert: a subscriber behind it fetches history. */
  alertSeq: number;
  pipeline: string;
  /** How the sockets are protected (CURVE, insecure on purpose, reachable off the box, monitors enrolled). */
  security?: { curve: boolean; insecure: boolean; exposed: boolean; monitors: number | null };
  /** The video signal: live, no-signal (with why, and when the next attempt is due) or ended. */
  signal?: { state: 'live' | 'no-signal' | 'ended'; since: number; restarts: number; lastError: string | null; nextRetryAt: number | null } | null;
  /** Frames whose processing failed (logged); the daemon goes on with the next. */
  frameErrors?: number;
  /** How overlays travel: geometry always; a rendered PNG only when the site enabled it. */
  overlay?: { format: 'geometry' | 'geometry+png'; pngEvery: number | null; png?: string };
  /** Per-frame processing (frame taken → overlay published) and its part outside ONNX Runtime's run. */
  work?: { frameMs: Percentiles; outsideOrtMs: Percentiles; outsideOrtShare: number } | null;
  /** The analysis picture the stages see and the source's own size. */
  analysis?: { width: number; height: number; source: { width: number; height: number } } | null;
  uptimeS: number;
  error?: string;
  /** Each publish socket: state, re-creations, failures, last error. */
  publisher?: PublisherHealth;
  /** The daemon process: RSS, V8 heap, external memory (MB), open fds. */
  process?: ProcessUsage;
  [extra: string]: unknown;
}

/**
 * An overlay as geometry, in full-frame pixels (docs/protocol.md): what a monitor draws.
 */
export interface OverlayGeometry {
  /** Lesion outlines: closed polygons, flat [x0, y0, x1, y1, …], largest first. */
  contours: number[][];
  /** Attention map over `rect`: width × height cells, row-major, 0–255. */
  attention: { rect: Rect; width: number; height: number; values: number[] } | null;
  /**
   * Segmenter mask at model resolution over `rect`, thresholded: run lengths, row-major,
   * alternating unset/set cells and starting with unset (the first run may be 0).
   */
  mask: { rect: Rect; width: number; height: number; threshold: number; runs: number[] } | null;
}

/** What the quality gate saw on a frame: shares (0–1, two decimals) of the picture's regions. */
export interface GateShares {
  /** Regions where the mucosa can be seen. */
  usable: number;
  /** Regions hidden, per cause (`dark`, `overexposed`, `bleeding`, `bubbles`); a cause hiding none is left out. */
  hidden: Record<string, number>;
}

export interface OverlayHeader extends BaseHeader {
  /** The source's size: every coordinate here is in its pixels. */
  width: number;
  height: number;
  roi: Rect;
  /** Classifier probability of EGC on this frame, null when gated. */
  score: number | null;
  smoothed: number | null;
  alert: boolean;
  box: Rect | null;
  areaPx: number | null;
  /** Why the frame was not classified, or null. */
  gated: string | null;
  /** The gate's measures on this frame (gated or not); null when the gate did not run. */
  quality: GateShares | null;
  /** Capture to publish, ms. */
  latencyMs: number;
  geometry: OverlayGeometry;
  /**
   * `geometry`: no payload. `png`: the payload is the overlay rendered as an RGBA PNG of
   * width × height, sent when the site enables overlay.png (protocol v1 monitors read it).
   */
  format: 'geometry' | 'png';
}

export interface FrameHeader extends BaseHeader {
  /** The ROI in full-frame pixels that the JPEG shows, scaled to width × height. */
  roi: Rect;
  width: number;
  height: number;
  alert: boolean;
  format: 'jpeg';
}

export interface AlertHeader extends BaseHeader {
  type: 'raise' | 'clear';
  /** Only on a clear the decision stage did not make: `restart` (the daemon restarted mid-episode). */
  reason?: 'restart';
  /** Lesion episode, +1 per raise; continues across restarts. */
  episode: number;
  onsetFrame: number;
  score: number;
  peakScore: number;
  box: Rect | null;
  areaPx: number | null;
  /**
   * The alert's clip, when one is being recorded (docs/recording.md): id, video path relative to
   * the recordings folder, first frame, and on a clear the last frame the clip runs to (the
   * post-roll counted at the source's frame rate). The `clip` history op and lumen.clip give the rest.
   */
  clip?: { id: string; path: string; firstFrame: number | null; lastFrame?: number | null };
}

/**
 * What the appliance knows about one recording (docs/recording.md): `<id>.json` beside its video,
 * the `clip` history op's answer and lumen.clip's payload.
 */
export interface ClipInfo {
  version: 1;
  id: string;
  kind: 'clip' | 'segment';
  /** `recording`: being written; `incomplete`: cut short by a crash, found at the next start. */
  state: 'recording' | 'complete' | 'incomplete' | 'failed' | 'deleted';
  /** Video and annotation sidecar, relative to the recordings folder. */
  path: string;
  sidecar: string;
  codec: string;
  width: number;
  height: number;
  /** Ids of the first and last frame in the file (null before the first has been written). */
  firstFrame: number | null;
  lastFrame: number | null;
  frames: number;
  /** Capture time of the first and last frame, ms since the epoch. */
  startTs: number | null;
  endTs: number | null;
  /** Video and sidecar on disk. */
  bytes: number;
  createdAt: number;
  /** Clips: the alert episode and its frames (clearFrame null while it is on). */
  alert?: { episode: number; onsetFrame: number; raiseFrame: number; clearFrame: number | null };
  /** Clips: seconds recorded before the onset frame and after the clear. */
  preRollS?: number;
  postRollS?: number;
  /** Why it ended: post-roll, length, stop, size-change, overlap, no-frames, disk-full, encoder, fault, segment, crash. */
  endReason?: string;
  error?: { code: string; message: string };
  deletedAt?: number;
  deleteReason?: string;
}

/** lumen.clip: a recording was finished (complete or failed); frameId is its last frame. */
export interface ClipHeader extends BaseHeader {
  clip: ClipInfo;
}

export type Header = StatusHeader | OverlayHeader | FrameHeader | AlertHeader | ClipHeader | BaseHeader;

/**
 * History request (REQ → REP), JSON: `since` — every alert after `after` (seq), up to `limit`;
 * `clip` — the record of recording `id` (an alert's clip, or a segment).
 */
export type HistoryRequest = { v: number; op: 'since'; after: number; limit?: number } | { v: number; op: 'clip'; id: string };

export type HistoryReply =
  | { v: number; ok: true; events: AlertHeader[]; more: boolean; lastSeq: number }
  | { v: number; ok: true; clip: ClipInfo }
  | { v: number; ok: false; error: { code: string; message: string } };

export const HISTORY_MAX_LIMIT = 500;

export function encodeHeader(h: Header): string {
  return JSON.stringify(h);
}
