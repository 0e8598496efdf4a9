import type { ErrorCode } from '../errors.js';
import type { Rect } from '../frame.js';
import type { HealthReading } from '../health/health-sampler.js';
import type { ProcessUsage } from '../health/process-usage.js';
import type { GatedReasons, RegionCause } from '../quality/gate-reasons.js';
import type { RecordingStatus } from '../record/recorder-status.js';
import type { ActiveAreaShape } from '../roi/active-area.js';
import type { PublisherHealth } from './health.js';

/** Wire protocol version; bumped on any incompatible change to a header or payload. */
export const PROTOCOL_VERSION = 1;

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

/** A model's execution provider tried at start or reload, and why it failed (`lumen.status` providerAttempts). */
export interface ProviderAttemptStatus {
  provider: string;
  ok: boolean;
  reason?: string;
}

/** The result of the last model reload (SIGHUP): when, whether the new bundles replaced the running ones, and why not. */
export interface ModelReloadStatus {
  /** ms since epoch. */
  at: number;
  ok: boolean;
  /** Why it was refused: a code from the error catalogue, and the message. */
  code?: ErrorCode;
  message?: string;
}

/** What the installed ONNX Runtime binding can do (`lumen.status` runtime). */
export interface RuntimeStatus {
  onnxruntime: string;
  /** Providers the binding carries, `(needs libraries)` where they are not bundled. */
  providersInBinding: string[];
  /** How TensorRT options reach the provider. */
  tensorrtOptions: string;
}

/** The box's health as the operations side last sampled it (`lumen.status` health). Temperatures °C, sizes MB, loads 0–100. */
export type HealthStatus = Pick<HealthReading, 'cpuLoadPct' | 'memUsedMB' | 'memTotalMB' | 'cpuTempC' | 'gpuTempC' | 'gpuLoadPct' | 'hottestC'> & {
  /** Free space per folder watched (journal, engine cache…), MB. */
  diskFreeMB: Record<string, number>;
};

/** The degrade level in force and the work it asks for (`lumen.status` degrade): every n-th frame per model. */
export interface DegradeStatus {
  level: number;
  name: string;
  segmenterEvery: number;
  classifierEvery: number;
}

/** Status fields the daemon's operations side fills (runtime/daemon/operations.ts statusFields()). */
export interface OperationsStatusFields {
  /** null before the first sample. */
  health: HealthStatus | null;
  degrade: DegradeStatus;
}

/** Status fields the recorder fills (runtime/record/recorder.ts statusFields(); docs/recording.md). */
export interface RecordingStatusFields {
  recording: RecordingStatus;
}

/** Frames held back by the quality gate since start, per `gated` value (a reason, or several joined). */
export type GatedCounts = Partial<Record<GatedReasons, number>>;

export interface StatusHeader extends BaseHeader, Partial<OperationsStatusFields>, Partial<RecordingStatusFields> {
  /** `no-signal`: no frame from the source for a second (or it is being re-opened); `error`: the source ended. */
  state: 'starting' | 'running' | 'degraded' | 'no-signal' | 'stopping' | 'error';
  /** Frames processed per second over the last status interval. */
  fps: number;
  captureFps: number;
  captured: number;
  processed: number;
  /** Frames replaced in the mailbox because inference was busy. */
  dropped: number;
  /** Per-stage latency over the last window, ms, by stage name (classify, segment, decision, overlay, publish, total, …). */
  latencyMs: Record<string, Percentiles>;
  /** Age of the frame when its overlay was published, ms. */
  frameAgeMs: Percentiles;
  /** Execution provider in use per model role. */
  providers: { classifier?: string; segmenter?: string };
  /** Per model id: each provider tried, in order, with its failure reason. */
  providerAttempts: Record<string, ProviderAttemptStatus[]>;
  models: { id: string; version: string; task: string; clinical: boolean }[];
  alert: boolean;
  /** Seq of the newest journalled alert: a subscriber behind it fetches history. */
  alertSeq: number;
  gated: GatedCounts;
  /** The active image area in use (full-frame pixels of the analysis picture) and its shape; null before one is found. */
  roi: (Rect & { shape: ActiveAreaShape }) | null;
  pipeline: string;
  /** The last model reload; absent until one was asked for. */
  modelReload?: ModelReloadStatus;
  runtime: RuntimeStatus;
  /** Frames skipped by the degrade policy. */
  shed: number;
  /** How the sockets are protected (CURVE, insecure on purpose, reachable off the box, monitors enrolled). */
  security: { curve: boolean; insecure: boolean; exposed: boolean; monitors: number | null };
  /** The video signal: live, no-signal (with why, and when the next attempt is due) or ended. */
  signal: { state: 'live' | 'no-signal' | 'ended'; since: number; restarts: number; lastError: string | null; nextRetryAt: number | null } | null;
  /** Frames whose processing failed (logged); the daemon goes on with the next. */
  frameErrors: number;
  /** How overlays travel: geometry always; a rendered PNG only when the site enabled it. */
  overlay: { format: 'geometry' | 'geometry+png'; pngEvery: number | null; png?: string };
  /** Per-frame processing (frame taken → overlay published) and its part outside ONNX Runtime's run. */
  work: { frameMs: Percentiles; outsideOrtMs: Percentiles; outsideOrtShare: number } | null;
  /** The analysis picture the stages see and the source's own size. */
  analysis: { width: number; height: number; source: { width: number; height: number } } | null;
  uptimeS: number;
  error?: string;
  /** Each publish socket: state, re-creations, failures, last error. */
  publisher: PublisherHealth;
  /** The daemon process: RSS, V8 heap, external memory (MB), open fds. */
  process: ProcessUsage;
}

/** A status as the daemon assembles it: everything but what the publisher stamps (v, seq, bootId, alertSeq, security). */
export type StatusFields = Omit<StatusHeader, 'v' | 'seq' | 'bootId' | 'alertSeq' | 'security'>;

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
  /** Regions hidden, per region cause (runtime/quality/gate-reasons.ts); a cause hiding none is left out. */
  hidden: Partial<Record<RegionCause, number>>;
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
  /** Why the frame was not classified (a reason, or several joined by commas), or null. */
  gated: GatedReasons | null;
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
  error?: { code: ErrorCode; message: string };
  deletedAt?: number;
  deleteReason?: string;
}

/** lumen.clip: a recording was finished (complete or failed); frameId is its last frame. */
export interface ClipHeader extends BaseHeader {
  clip: ClipInfo;
}

/**
 * The topics on the PUB socket and each one's header: the one table a new topic is added to.
 * The publisher's seq and drop policy, the reference client's checks and message type, and
 * what `lumen view` subscribes to all derive from it.
 */
export interface TopicHeaders {
  status: StatusHeader;
  alert: AlertHeader;
  overlay: OverlayHeader;
  frame: FrameHeader;
  clip: ClipHeader;
}

export type TopicKey = keyof TopicHeaders;

/** What follows a header: nothing, always a binary frame, or a PNG exactly when the header's `format` is `png`. */
export type PayloadRule = 'none' | 'always' | 'png';

/** A received header's fields, not yet trusted. */
export type UncheckedHeader<K extends TopicKey> = { readonly [F in keyof TopicHeaders[K]]?: unknown };

/** How one topic travels. */
export interface TopicSpec<K extends TopicKey> {
  /** The topic frame on the wire (subscribers filter by its prefix). */
  readonly name: `lumen.${K}`;
  readonly payload: PayloadRule;
  /** The publisher drops it (newest kept) while the socket is busy; never for what must arrive. */
  readonly droppable: boolean;
  /** `lumen view` subscribes to it and hands it to its pages. */
  readonly view: boolean;
  /** What a subscriber checks, beyond `v` and `seq`, before trusting the header's type: a reason when it fails. */
  readonly check?: (h: UncheckedHeader<K>) => string | null;
}

export const TOPIC_TABLE = {
  status: { name: 'lumen.status', payload: 'none', droppable: false, view: true },
  alert: { name: 'lumen.alert', payload: 'none', droppable: false, view: true },
  overlay: {
    name: 'lumen.overlay',
    payload: 'png',
    droppable: true,
    view: true,
    check: (h) => (h.geometry && typeof h.geometry === 'object' ? null : 'overlay without geometry'),
  },
  frame: { name: 'lumen.frame', payload: 'always', droppable: true, view: true },
  clip: {
    name: 'lumen.clip',
    payload: 'none',
    droppable: false,
    // A finished recording: pages name clips from the alerts that carry them.
    view: false,
    check: (h) => (typeof h.clip === 'object' && h.clip !== null && 'id' in h.clip && typeof h.clip.id === 'string' ? null : 'clip without its record'),
  },
} as const satisfies { readonly [K in TopicKey]: TopicSpec<K> };

/** Topic names on the wire, by key. */
export const TOPICS = Object.freeze(Object.fromEntries(Object.entries(TOPIC_TABLE).map(([k, spec]) => [k, spec.name]))) as {
  readonly [K in TopicKey]: (typeof TOPIC_TABLE)[K]['name'];
};
export type Topic = (typeof TOPICS)[TopicKey];

/** The key of a topic name from the wire, or undefined for a topic this version does not know. */
export function topicKey(name: string): TopicKey | undefined {
  return (Object.keys(TOPIC_TABLE) as TopicKey[]).find((k) => TOPIC_TABLE[k].name === name);
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
  | { v: number; ok: false; error: { code: ErrorCode; message: string } };

export const HISTORY_MAX_LIMIT = 500;

export function encodeHeader(h: Header): string {
  return JSON.stringify(h);
}
