import { z } from 'zod';
import { PROVIDERS } from '../inference/providers.js';
import { DEFAULT_QUALITY_THRESHOLDS as Q } from '../quality/quality-gate.js';
import { parseListenAddress } from '../metrics/address.js';
import { CACHE_DIR, DEMO_FEED, MODELS_DIR, STATE_DIR } from './paths.js';

/** The longest delay a Node timer honours (a longer one fires after 1 ms), ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** A timer setting in ms, between `min` and `max` (never beyond what a Node timer honours). */
const timerMs = (min: number, max: number) => z.number().int().min(min).max(Math.min(max, MAX_TIMER_MS));
const frames = z.number().int().min(1).max(1000);
const prob = z.number().min(0).max(1);
/** Frame coordinates: no capture card delivers more than 16K pixels a side. */
const px = z.number().int().min(0).max(16384);

/**
 * A ZeroMQ endpoint the daemon binds: tcp://HOST:PORT with a port in 1–65535 (no wildcard or
 * ephemeral port: monitors must know where to connect), or ipc://PATH.
 */
export const bindEndpoint = z.string().superRefine((e, ctx) => {
  if (/^ipc:\/\/.+/.test(e)) return;
  const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d+)$/.exec(e);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${e}" is not tcp://HOST:PORT or ipc://PATH` });
    return;
  }
  const port = Number(m[2]);
  if (port < 1 || port > 65535) ctx.addIssue({ code: 'custom', message: `port ${m[2]} is outside 1–65535` });
});

/** "WIDTHxHEIGHT" → size, when both are even and in range; else null. */
export function analysisBox(v: string): { width: number; height: number } | null {
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(v);
  if (!m) return null;
  const width = Number(m[1]);
  const height = Number(m[2]);
  const ok = width % 2 === 0 && height % 2 === 0 && width >= 32 && height >= 32 && width <= 7680 && height <= 4320;
  return ok ? { width, height } : null;
}

/** Default analysis size: a 1080p source at half size. */
export const DEFAULT_ANALYSIS_SIZE = { width: 960, height: 540 } as const;

/** The capture's analysis size: null for the full picture; explicit when the config set it. */
export function analysisOf(capture: { analysisSize?: string }): { size: { width: number; height: number } | null; explicit: boolean } {
  if (capture.analysisSize === undefined) return { size: { ...DEFAULT_ANALYSIS_SIZE }, explicit: false };
  if (capture.analysisSize === 'full') return { size: null, explicit: true };
  return { size: analysisBox(capture.analysisSize), explicit: true };
}

/** Capture: which pipeline template, its parameters, and end-of-stream behaviour. */
const Capture = z
  .strictObject({
    /** Template name from pipelines/; `demo` (the default) is file-replay of the built-in demo feed. */
    pipeline: z.string().default('demo'),
    /** Template parameters, e.g. { device: /dev/video0 }. */
    params: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
    /** Restart the source at end of stream (demo and looping replays). */
    loop: z.boolean().default(true),
    /** How long to wait for the first frame, ms (100 ms – 10 min). */
    readyTimeoutMs: timerMs(100, 600_000).default(20000),
    /**
     * Largest picture the stages in JavaScript receive, "WIDTHxHEIGHT" (even numbers) or "full":
     * GStreamer scales the source down to fit, keeping its aspect, and never up. Default 960x540
     * (a 1080p source at half size; smaller sources pass unscaled). Coordinates on the wire stay
     * in the source's pixels.
     */
    analysisSize: z
      .string()
      .refine((v) => v === 'full' || analysisBox(v) !== null, {
        message: 'must be "full" or WIDTHxHEIGHT with even numbers from 32x32 to 7680x4320, e.g. 960x540',
      })
      .optional(),
  })
  .transform((c) => (c.pipeline === 'demo' ? { ...c, pipeline: 'file-replay', params: { location: DEMO_FEED, ...c.params } } : c));

const Inference = z.strictObject({
  /** Execution providers, tried in order. */
  providers: z.array(z.enum(PROVIDERS)).min(1).default(['tensorrt', 'cuda', 'cpu']),
  deviceId: z.number().int().min(0).max(255).default(0),
  /** ONNX Runtime intra-op threads; 0 lets ORT choose (one per core). At most 1024. */
  intraOpThreads: z.number().int().min(0).max(1024).default(0),
  tensorrt: z
    .strictObject({
      fp16: z.boolean().default(true),
      engineCacheDir: z.string().default(`${CACHE_DIR}/tensorrt/engines`),
      timingCacheDir: z.string().default(`${CACHE_DIR}/tensorrt/timing`),
      /** TensorRT builder workspace, MB (at most 1 TiB). */
      workspaceMB: z.number().int().positive().max(1_048_576).default(2048),
    })
    .prefault({}),
  /** Bundle folders. */
  classifier: z.string().default(`${MODELS_DIR}/ref-classifier`),
  segmenter: z.string().default(`${MODELS_DIR}/ref-segmenter`),
  /** Run the segmenter when the classifier's raw score reaches this (1 = never, 0 = always). */
  segmentAbove: prob.default(0.5),
  requireSignature: z.boolean().default(false),
  /** Paths of PEM public keys whose bundle signatures are accepted. */
  trustedKeys: z.array(z.string()).default([]),
});

/** Decision: exponential smoothing of the score, then hysteresis. */
const Decision = z
  .strictObject({
    /** Weight of the newest score in the moving average (1 = no smoothing). */
    smoothing: z.number().gt(0).max(1).default(0.5),
    /** Raise when the smoothed score is at or above this for raiseFrames processed frames. */
    raiseThreshold: prob.default(0.6),
    raiseFrames: frames.default(3),
    /** Clear when it is below this for clearFrames processed frames. */
    clearThreshold: prob.default(0.4),
    clearFrames: frames.default(5),
  })
  .refine((d) => d.clearThreshold <= d.raiseThreshold, { message: 'clearThreshold must not exceed raiseThreshold', path: ['clearThreshold'] });

const rect = z.strictObject({ x: px, y: px, width: px.min(1), height: px.min(1) });

/** ROI: the endoscope's active area, found from the frame and kept steady (docs/conditioning.md). */
const Roi = z.strictObject({
  enabled: z.boolean().default(true),
  /** Frames between detections once the ROI is steady. */
  detectEvery: frames.default(30),
  /** Agreeing detections needed before the ROI moves. */
  stableCount: z.number().int().min(1).max(100).default(3),
  /** Edge movement in pixels still counted as the same area. */
  tolerance: z.number().min(0).max(100).default(4),
  /** Regions (frame pixels) blacked out before models and publishing: text burned in over the picture. */
  privacyMasks: z.array(rect).default([]),
  /** Black out what lies outside the active area's outline (an octagon's corners) as well. */
  blackOutside: z.boolean().default(true),
});

/** Quality gate: a gated frame is not classified; its reason is published. Defaults: docs/conditioning.md. */
const Quality = z.strictObject({
  enabled: z.boolean().default(true),
  /** Least share of the picture's regions that must be usable (not dark, blown out, blood or froth). */
  minUsableFraction: prob.default(Q.minUsableFraction),
  minSharpness: z.number().min(0).max(1e6).default(Q.minSharpness),
  /** Mean luma below which the picture is black (lamp off), 0–255. */
  minMeanLuma: z.number().min(0).max(255).default(Q.minMeanLuma),
});

const Overlay = z.strictObject({
  /** Draw the attention map as a heatmap under the contour. */
  heatmap: z.boolean().default(true),
  /** Minimum lesion probability for a pixel of the mask. */
  maskThreshold: prob.default(0.5),
  /**
   * Overlays travel as geometry. A site whose monitors only composite images (protocol v1
   * monitors) turns on a rendered full-frame PNG payload, on every n-th overlay.
   */
  png: z
    .strictObject({
      enabled: z.boolean().default(false),
      every: z.number().int().min(1).max(1000).default(1),
    })
    .prefault({}),
});

const Publish = z
  .strictObject({
    /** PUB socket for status, overlays and alerts (tcp://HOST:PORT, port 1–65535, or ipc://PATH). */
    endpoint: bindEndpoint.default('tcp://127.0.0.1:5555'),
    /** Socket answering alert-history requests. */
    historyEndpoint: bindEndpoint.default('tcp://127.0.0.1:5556'),
    /** Status heartbeat, ms (50 ms – 1 min: monitors and the client's gap check rely on it). */
    statusIntervalMs: timerMs(50, 60_000).default(1000),
    /** Messages queued per subscriber before ZeroMQ drops for it (1–10000; each may be an overlay). */
    sendHighWaterMark: z.number().int().min(1).max(10_000).default(1000),
    /** CURVE encryption and authentication of both sockets; only listed monitor keys get in. */
    curve: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** The daemon's key pair file (lumen keys generate). */
        keyFile: z.string().default(''),
        /** Monitors' public keys: Z85 strings or paths of .pub files (fixed until restart). */
        allowedClients: z.array(z.string()).default([]),
        /** Allow-list file of enrolled monitors (`lumen monitors add`), re-read when it changes; '' = none. */
        allowListFile: z.string().default(''),
      })
      .refine((c) => !c.enabled || c.keyFile !== '', { message: 'keyFile is required when curve is enabled', path: ['keyFile'] })
      .prefault({}),
    /**
     * Accept a network-reachable endpoint without CURVE (anyone on the network receives and may
     * connect). Without it such a config is refused at start; with it, status, doctor and the log
     * say so on every start (docs/security.md).
     */
    insecure: z.boolean().default(false),
    /** Composited preview (frame + overlay, ROI only, JPEG) on lumen.frame. */
    preview: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** Width of the JPEG in pixels (height keeps the ROI's aspect). */
        width: z.number().int().min(64).max(1920).default(480),
        quality: z.number().int().min(10).max(100).default(70),
        /** Publish every n-th processed frame. */
        every: z.number().int().min(1).max(1000).default(1),
      })
      .prefault({}),
  })
  .refine((p) => p.endpoint !== p.historyEndpoint, { message: 'must differ from publish.endpoint', path: ['historyEndpoint'] });

/** Health sampling and the degrade policy (docs/operations.md). */
const Health = z.strictObject({
  /** Health sampling and degrade-policy step, ms (100 ms – 1 h). */
  sampleIntervalMs: timerMs(100, 3_600_000).default(2000),
  /** Where sysfs is mounted, for the thermal zones (a container may see the host's elsewhere). */
  sysRoot: z.string().min(1).default('/sys'),
  degrade: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Shed work when the hottest sensor is above this, °C. */
      tempHighC: z.number().min(-50).max(200).default(85),
      tempClearC: z.number().min(-50).max(200).default(78),
      /** Shed work when p99 capture-to-publish latency is above this, ms (at most 1 min). */
      latencyHighMs: z.number().positive().max(60_000).default(400),
      latencyClearMs: z.number().positive().max(60_000).default(200),
      /** Readings over a limit before each step (and clear before each recovery). */
      holdSamples: z.number().int().min(1).max(1000).default(3),
      maxLevel: z.number().int().min(0).max(3).default(3),
    })
    .refine((d) => d.tempClearC < d.tempHighC, { message: 'tempClearC must be below tempHighC', path: ['tempClearC'] })
    .refine((d) => d.latencyClearMs < d.latencyHighMs, { message: 'latencyClearMs must be below latencyHighMs', path: ['latencyClearMs'] })
    .prefault({}),
});

const State = z.strictObject({
  /** Alert journal and sequence numbers: a folder, or a path where one can be made. */
  dir: z.string().min(1).default(STATE_DIR),
});

/** Prometheus metrics at http://<address>/metrics (docs/fleet.md). */
const Metrics = z.strictObject({
  enabled: z.boolean().default(true),
  /** host:port; 127.0.0.1 keeps metrics off the network unless the site opens them. */
  address: z
    .string()
    .refine((a) => parseListenAddress(a) !== null, { message: 'expected host:port, e.g. 127.0.0.1:9464' })
    .default('127.0.0.1:9464'),
});

/** Encoders the recorder can drive (runtime/record/profiles.ts). */
export const RECORD_ENCODERS = ['vp8', 'x264', 'jetson-h264'] as const;

/**
 * Recording of the conditioned analysis stream (docs/recording.md): alert clips with pre-roll,
 * optional continuous segments, retention. Files go to <state.dir>/recordings.
 */
const Recording = z.strictObject({
  /** One clip per alert, from preRollS before the onset frame to postRollS after the clear. */
  clips: z
    .strictObject({
      enabled: z.boolean().default(true),
      preRollS: z.number().min(0).max(60).default(5),
      postRollS: z.number().min(0).max(60).default(5),
      /** A longer alert's clip ends here (disk and memory stay bounded), s. */
      maxSeconds: z.number().int().min(10).max(3600).default(600),
    })
    .prefault({}),
  /** Continuous procedure recording in segments, each playable on its own (off by default). */
  segments: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** A new segment starts at the first keyframe after this many seconds. */
      seconds: z.number().int().min(10).max(3600).default(60),
    })
    .prefault({}),
  /** vp8 (software, gstreamer1.0-plugins-good), x264 (needs plugins-ugly and -bad), jetson-h264 (the Jetson's hardware encoder). */
  encoder: z.enum(RECORD_ENCODERS).default('vp8'),
  /** Frames recorded per second at most: every frame up to this rate, then only as many as fit. */
  maxFps: z.number().min(1).max(60).default(15),
  bitrateKbps: z.number().int().min(100).max(50_000).default(1500),
  /** A keyframe at least this often (at maxFps): the pre-roll is exact to within one such interval, s. */
  keyframeEveryS: z.number().min(0.2).max(10).default(1),
  /** Hard cap on the encoded pre-roll held in memory, MB. */
  preRollMaxMB: z.number().min(1).max(1024).default(16),
  retention: z
    .strictObject({
      /** Recordings (video and sidecars) may take this much disk; the oldest segments go first, then the oldest clips. */
      quotaMB: z.number().int().min(16).max(10_000_000).default(8192),
      segmentMaxAgeHours: z.number().min(1).max(8760).default(24),
      clipMaxAgeDays: z.number().min(1).max(3650).default(30),
      /** Recording stops while the disk has less than this free, so the alert journal never runs out, MB. */
      minFreeMB: z.number().int().min(0).max(1_000_000).default(512),
    })
    .refine((r) => r.clipMaxAgeDays * 24 >= r.segmentMaxAgeHours, {
      message: 'clips are kept at least as long as segments: clipMaxAgeDays × 24 must be ≥ segmentMaxAgeHours',
      path: ['clipMaxAgeDays'],
    })
    .prefault({}),
});

/** The whole daemon config: one section per stage. Unknown keys are refused. */
export const ConfigSchema = z.strictObject({
  capture: Capture.prefault({}),
  roi: Roi.prefault({}),
  quality: Quality.prefault({}),
  inference: Inference.prefault({}),
  decision: Decision.prefault({}),
  overlay: Overlay.prefault({}),
  publish: Publish.prefault({}),
  state: State.prefault({}),
  health: Health.prefault({}),
  metrics: Metrics.prefault({}),
  record: Recording.prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
