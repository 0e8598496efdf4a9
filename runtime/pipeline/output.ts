import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { MetricsServer } from '../metrics/metrics-server.js';
import { buildGeometry } from '../overlay/geometry.js';
import { compositeRoi } from '../overlay/preview.js';
import { renderOverlay } from '../overlay/render.js';
import { renderGeometry } from '../overlay/render-geometry.js';
import type { LumenPublisher } from '../publish/publisher.js';
import type { GatedCounts, OverlayGeometry } from '../publish/protocol.js';
import type { Recorder } from '../record/recorder.js';
import { encodeJpeg, encodePng } from '../util/image-codec.js';
import type { Conditioner } from './condition.js';
import type { ProcessedFrame } from './processed-frame.js';

/** The overlay geometry of a processed frame, in full-frame pixels, as the overlay config asks (also what the bench measures). */
export function overlayGeometry(p: ProcessedFrame, ov: Readonly<Config['overlay']>): OverlayGeometry {
  return buildGeometry({ roi: p.roi, scale: p.scale, mask: p.mask, maskThreshold: ov.maskThreshold, attention: ov.heatmap ? p.attention : null });
}

/** Where the output stage sends what it makes. */
export interface OutputSinks {
  publisher: LumenPublisher;
  /** Per-name samples for the p50/p99 in status (the daemon's RollingStats). */
  stats: { add(name: string, value: number): void };
  recorder: Recorder | null; // record
  metrics: MetricsServer | null; // metrics
}

/**
 * The live path's last stage: alert (recorded and journalled) → overlay geometry → optional PNG
 * and preview → publish → recorder → stats. Counts what it published, for status.
 */
export class FrameOutput {
  /** Frames whose overlay went out. */
  processed = 0;
  /** Frames the quality gate held back, per reason. */
  readonly gatedCounts: GatedCounts = {};
  /** The newest frame published, or -1. */
  lastFrameId = -1;

  constructor(
    private readonly config: Readonly<Config>,
    private readonly conditioner: Conditioner,
    private readonly sinks: OutputSinks,
    private readonly log: Logger,
  ) {}

  /** Publishes one frame; `takenAt` (performance.now()) is when the loop took it, for the `work` figures. */
  async emit(p: ProcessedFrame, takenAt: number): Promise<void> {
    const { frame, scale, decision: d, boxFull: box } = p;
    const { publisher, stats, recorder, metrics } = this.sinks;
    if (d.event) {
      const t0 = performance.now();
      const { type, episode, onsetFrame, score, peakScore, box: eventBox, areaPx } = d.event;
      const clip = await recorder?.alert(d.event); // record: the clip (and its record on disk) first, so the journalled alert names it
      const stored = await publisher.alert({ type, episode, onsetFrame, score, peakScore, box: eventBox, areaPx, frameId: frame.id, ts: frame.ts, ...clip });
      this.log.info({ seq: stored.seq, type, episode, frameId: frame.id, score: Math.round(score * 1000) / 1000 }, `alert ${type}`);
      p.timings.decision += performance.now() - t0;
    }
    let t = performance.now();
    const ov = this.config.overlay;
    const geometry = overlayGeometry(p, ov);
    const full = scale.full;
    const header = {
      frameId: frame.id,
      ts: frame.ts,
      width: full.width,
      height: full.height,
      roi: scale.rectToFull(p.roi),
      score: p.score,
      smoothed: d.smoothed,
      alert: d.alert,
      box,
      areaPx: p.areaPx,
      gated: p.gated,
      quality: p.quality,
      geometry,
    };
    p.timings.overlay = performance.now() - t;
    let png: Buffer | null = null;
    if (ov.png.enabled && this.processed % ov.png.every === 0) {
      // The site asked for rendered overlays (monitors that only composite images): full-frame
      // pixels, drawn from the same geometry, masked regions left transparent.
      t = performance.now();
      const rgba = renderGeometry({ width: full.width, height: full.height, geometry, box, alert: d.alert });
      this.conditioner.clearMasked(rgba, full.width, full.height, 'full');
      png = await encodePng({ width: full.width, height: full.height, data: rgba });
      p.timings.png = performance.now() - t;
    }
    const pv = this.config.publish.preview;
    if (pv.enabled && this.processed % pv.every === 0) {
      t = performance.now();
      // The preview is the conditioned analysis frame (masks already black), ROI only.
      const rgba = renderOverlay({
        width: frame.width,
        height: frame.height,
        roi: p.roi,
        mask: p.mask,
        maskThreshold: ov.maskThreshold,
        attention: ov.heatmap ? p.attention : null,
        box: p.box,
        alert: d.alert,
      });
      this.conditioner.clearMasked(rgba, frame.width, frame.height, 'analysis');
      const jpeg = await encodeJpeg(compositeRoi(frame, rgba, p.roi), pv.quality, pv.width);
      const height = Math.round((p.roi.height * Math.min(pv.width, p.roi.width)) / p.roi.width);
      void publisher.frame({ frameId: frame.id, ts: frame.ts, roi: header.roi, width: Math.min(pv.width, p.roi.width), height, alert: d.alert }, jpeg);
      p.timings.preview = performance.now() - t;
    }
    t = performance.now();
    const age = Date.now() - frame.ts;
    void publisher.overlay({ ...header, latencyMs: age }, png);
    p.timings.publish = performance.now() - t;
    // "work" is this frame's own processing, frame taken → overlay published, and the share of it
    // outside ONNX Runtime's run; "total" is capture → publish, the frame's age as it goes out.
    const work = performance.now() - takenAt;
    // record: then the conditioned frame goes to the encoder (uncopied). Handing it over wakes the
    // encoder's thread, which on a busy core can take the CPU from this one for the 2–5 ms of a
    // conversion and encode: after the overlay, that takes only the idle time before the next frame.
    recorder?.frame(p, d);
    for (const k in p.timings) stats.add(k, p.timings[k]);
    stats.add('total', age);
    stats.add('work', work);
    stats.add('outsideOrt', Math.max(0, work - p.ortMs));
    metrics?.frame({ timings: p.timings, ageMs: age, alertEvent: d.event?.type }); // metrics
    this.processed++;
    if (p.gated) this.gatedCounts[p.gated] = (this.gatedCounts[p.gated] ?? 0) + 1;
    this.lastFrameId = frame.id;
  }
}
