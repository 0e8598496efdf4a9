import { access, constants } from 'node:fs/promises';
import { Capture } from '../capture/capture.js';
import { PIPELINES_DIR } from '../config/paths.js';
import { isLumenError, LumenError, messageOf } from '../errors.js';
import { annotationsPathFor, decodeRle, loadAnnotations, type Annotations, type ApplianceDecision, type FrameAnnotation } from '../annotations.js';
import type { Logger } from '../log.js';
import type { FrameTruth, ReplaySource, SourceInfo, SourceOptions, TruthFrame } from './source.js';

/**
 * A recorded video replayed through the capture stage's own `file-replay` template in
 * every-frame mode (in order, no drops), paired with its annotation file frame by frame.
 */
export class VideoSource implements ReplaySource {
  private closed = false;
  private readonly byIndex: Map<number, FrameAnnotation>;
  readonly appliance?: readonly ApplianceDecision[];

  private constructor(
    readonly info: SourceInfo,
    private readonly annotations: Annotations,
    private readonly capture: Capture,
  ) {
    this.byIndex = new Map(annotations.frames.map((f) => [f.index, f]));
    if (annotations.appliance) this.appliance = annotations.appliance.frames;
  }

  static async open(video: string, opts: SourceOptions, log: Logger): Promise<VideoSource> {
    await access(video, constants.R_OK).catch((err: Error) => {
      throw new LumenError('FEED_INVALID', `${video}: cannot read the video (${messageOf(err)})`, { path: video });
    });
    const annPath = opts.annotations ?? annotationsPathFor(video);
    await access(annPath, constants.R_OK).catch(() => {
      throw new LumenError('FEED_INVALID', `${annPath}: no annotation file for ${video}${opts.annotations ? '' : ' (pass --annotations FILE)'}`, {
        path: annPath,
      });
    });
    // Annotations first: a broken truth file is found in milliseconds, not after the replay.
    const annotations = await loadAnnotations(annPath);
    let capture: Capture;
    try {
      capture = await Capture.open(
        {
          pipelinesDir: PIPELINES_DIR,
          template: 'file-replay',
          params: { location: video },
          mode: 'every-frame',
          loop: false,
          readyTimeoutMs: opts.readyTimeoutMs,
          analysis: opts.analysis ?? null,
        },
        log,
      );
    } catch (err) {
      if (isLumenError(err) && err.code.startsWith('PIPELINE_') && err.code !== 'PIPELINE_ELEMENT' && err.code !== 'PIPELINE_TEMPLATE') {
        throw new LumenError('FEED_INVALID', `${video}: not a video GStreamer can decode (${err.message})`, { path: video }, { cause: err });
      }
      throw err;
    }
    const info: SourceInfo = {
      kind: 'video',
      path: video,
      truth: annPath,
      frameCount: annotations.frameCount,
      fps: annotations.fps,
      width: annotations.width,
      height: annotations.height,
      labelled: annotations.labelled !== false,
      appliance: annotations.appliance !== undefined,
    };
    return new VideoSource(info, annotations, capture);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TruthFrame> {
    const a = this.annotations;
    const { path: video, truth: annPath } = this.info;
    let index = 0;
    try {
      for (;;) {
        let frame;
        try {
          frame = await this.capture.next();
        } catch (err) {
          throw new LumenError(
            'FEED_INVALID',
            `${video}: decoding failed at frame ${index} (${messageOf(err)})`,
            { path: video, frame: index },
            { cause: err },
          );
        }
        if (!frame) break;
        if (index >= a.frameCount) {
          throw new LumenError('FEED_INVALID', `${annPath}: frameCount: the annotations describe ${a.frameCount} frames, but ${video} has more`, {
            path: annPath,
            entry: 'frameCount',
          });
        }
        if (frame.width !== a.width || frame.height !== a.height) {
          throw new LumenError(
            'FEED_INVALID',
            `${annPath}: width/height: the annotations are for ${a.width}×${a.height}, ${video} is ${frame.width}×${frame.height}`,
            { path: annPath, entry: 'width' },
          );
        }
        yield { frame, truth: this.truthAt(index) };
        index++;
      }
    } finally {
      // Also on an early return (the consumer stopped): the pipeline goes, the count is not checked.
      this.capture.close();
    }
    if (index !== a.frameCount && !this.closed) {
      throw new LumenError('FEED_INVALID', `${annPath}: frameCount: the annotations describe ${a.frameCount} frames, but ${video} has ${index}`, {
        path: annPath,
        entry: 'frameCount',
      });
    }
  }

  private truthAt(index: number): FrameTruth {
    const f = this.byIndex.get(index);
    const name = `frame ${index}`;
    if (!f) return { index, label: 'normal', mask: null, lesionPx: 0, name };
    const reason = f.reason ? { reason: f.reason } : {};
    if (!f.mask) return { index, label: f.label, mask: null, lesionPx: 0, name, ...reason };
    const mask = decodeRle(f.mask);
    let lesionPx = 0;
    for (let k = 1; k < f.mask.counts.length; k += 2) lesionPx += f.mask.counts[k];
    return { index, label: f.label, mask: lesionPx > 0 ? mask : null, lesionPx, name, ...reason };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.capture.close();
  }
}
