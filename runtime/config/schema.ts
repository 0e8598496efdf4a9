import { z } from 'zod';
import { PROVIDERS } from '../inference/ort.js';
import { DEFAULT_QUALITY_THRESHOLDS as Q } from '../quality/quality-gate.js';
import { parseListenAddress } from '../metrics/address.js';
import { CACHE_DIR, DEMO_FEED, MODELS_DIR, STATE_DIR } from './paths.js';

const ms = z.number().int().positive();
const frames = z.number().int().min(1).max(1000);
const prob = z.number().min(0).max(1);

/** Capture: which pipeline template, its parameters, and end-of-stream behaviour. */
const Capture = z.strictObject({
  /** Template name from pipelines/ (default: the demo feed). */
  pipeline: z.string().default('demo'),
  /** Template parameters, e.g. { device: /dev/video0 }; the demo's location defaults to the built-in feed. */
  params: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
  /** Restart the source at end of stream (demo and looping replays). */
  loop: z.boolean().default(true),
  /** How long to wait for the first frame, ms. */
  readyTimeoutMs: ms.default(20000),
}).transform((c) => (c.pipeline === 'demo' && !c.params.location ? { ...c, params: { ...c.params, location: DEMO_FEED } } : c));

const Inference = z.strictObject({
  /** Execution providers, tried in order. */
  providers: z.array(z.enum(PROVIDERS)).min(1).default(['tensorrt', 'cuda', 'cpu']),
  deviceId: z.number().int().min(0).default(0),
  /** ONNX Runtime intra-op threads; 0 lets ORT choose (one per core). */
  intraOpThreads: z.number().int().min(0).default(0),
  tensorrt: z
    .strictObject({
      fp16: z.boolean().default(true),
      engineCacheDir: z.string().default(`${CACHE_DIR}/tensorrt/engines`),
      timingCacheDir: z.string().default(`${CACHE_DIR}/tensorrt/timing`),
      workspaceMB: z.number().int().positive().default(2048),
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

const rect = z.strictObject({ x: z.number().int().min(0), y: z.number().int().min(0), width: z.number().int().positive(), height: z.number().int().positive() });

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
  minMeanLuma: z.number().min(0).max(255).default(Q.minMeanLuma),
  maxDarkFraction: prob.default(Q.maxDarkFraction),
  maxOverexposedFraction: prob.default(Q.maxOverexposedFraction),
  minSharpness: z.number().min(0).default(Q.minSharpness),
  maxSpecularFraction: prob.default(Q.maxSpecularFraction),
  maxSpeckleFraction: prob.default(Q.maxSpeckleFraction),
});

const Overlay = z.strictObject({
  /** Draw the attention map as a heatmap under the contour. */
  heatmap: z.boolean().default(true),
  /** Minimum lesion probability for a pixel of the mask. */
  maskThreshold: prob.default(0.5),
});

const Publish = z.strictObject({
  /** PUB socket for status, overlays and alerts. */
  endpoint: z.string().default('tcp://127.0.0.1:5555'),
  /** REP socket answering alert-history requests. */
  historyEndpoint: z.string().default('tcp://127.0.0.1:5556'),
  statusIntervalMs: ms.default(1000),
  /** Messages queued per subscriber before ZeroMQ drops for it. */
  sendHighWaterMark: z.number().int().positive().default(1000),
  /** CURVE encryption and authentication of both sockets; only listed monitor keys get in. */
  curve: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** The daemon's key pair file (lumen keys generate). */
      keyFile: z.string().default(''),
      /** Monitors' public keys: Z85 strings or paths of .pub files. */
      allowedClients: z.array(z.string()).default([]),
    })
    .refine((c) => !c.enabled || c.keyFile !== '', { message: 'keyFile is required when curve is enabled', path: ['keyFile'] })
    .prefault({}),
  /** Composited preview (frame + overlay, ROI only, JPEG) on lumen.frame. */
  preview: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Width of the JPEG in pixels (height keeps the ROI's aspect). */
      width: z.number().int().min(64).max(1920).default(480),
      quality: z.number().int().min(10).max(100).default(70),
      /** Publish every n-th processed frame. */
      every: z.number().int().min(1).default(1),
    })
    .prefault({}),
});

/** Health sampling and the degrade policy (docs/operations.md). */
const Health = z.strictObject({
  sampleIntervalMs: ms.default(2000),
  degrade: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Shed work when the hottest sensor is above this, °C. */
      tempHighC: z.number().default(85),
      tempClearC: z.number().default(78),
      /** Shed work when p99 capture-to-publish latency is above this, ms. */
      latencyHighMs: z.number().positive().default(400),
      latencyClearMs: z.number().positive().default(200),
      /** Readings over a limit before each step (and clear before each recovery). */
      holdSamples: z.number().int().min(1).default(3),
      maxLevel: z.number().int().min(0).max(3).default(3),
    })
    .refine((d) => d.tempClearC < d.tempHighC, { message: 'tempClearC must be below tempHighC', path: ['tempClearC'] })
    .refine((d) => d.latencyClearMs < d.latencyHighMs, { message: 'latencyClearMs must be below latencyHighMs', path: ['latencyClearMs'] })
    .prefault({}),
});

const State = z.strictObject({
  /** Alert journal and sequence numbers. */
  dir: z.string().default(STATE_DIR),
});

/** Prometheus metrics at http://<address>/metrics (docs/fleet.md). */
const Metrics = z.strictObject({
  enabled: z.boolean().default(true),
  /** host:port; 127.0.0.1 keeps metrics off the network unless the site opens them. */
  address: z.string().refine((a) => parseListenAddress(a) !== null, { message: 'expected host:port, e.g. 127.0.0.1:9464' }).default('127.0.0.1:9464'),
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
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
