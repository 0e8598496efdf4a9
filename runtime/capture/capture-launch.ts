// capture/: the launch line a capture runs: the template rendered with the appsink's properties
// for the mode, and the analysis size either in the template's own slot or as a scaler whose
// input says the source's size.
import type { Size } from '../frame.js';
import { ANALYSIS_PLACEHOLDER, analysisLaunch } from './analysis-stream.js';
import { checkElements, type PipelineTemplate, renderSourceSize, renderTemplate } from './template.js';
import type { CaptureMode } from './capture.js';

// Live: the pump pulls as fast as frames come and the mailbox keeps only the newest, counting
// what it replaces. The appsink never drops (a drop there is invisible, and shifts frame ids
// off the source's frame index): two buffers absorb a late pull, and a longer stall holds the
// source back briefly instead — a live source drops in its driver, a file simply waits.
const SINK_PROPS: Record<CaptureMode, string> = {
  live: 'max-buffers=2 drop=false sync=true',
  'every-frame': 'max-buffers=2 drop=false sync=false',
};

export interface CaptureLaunch {
  launch: string;
  /** Whether the launch line has the analysis scaler, whose input says the source's size. */
  scaler: boolean;
  /** The source size a self-scaling template states (null: unknown, or read at the scaler). */
  fixed: Size | null;
}

/** Renders the template for a capture and checks that its elements exist. */
export function captureLaunch(template: PipelineTemplate, params: Record<string, string>, mode: CaptureMode, size: Size | null, name: string): CaptureLaunch {
  const selfScaling = template.body.includes(`{${ANALYSIS_PLACEHOLDER}}`);
  const slots = { [ANALYSIS_PLACEHOLDER]: size ? `,width=${size.width},height=${size.height}` : '' };
  const rendered = renderTemplate(template, params, SINK_PROPS[mode], slots);
  const { launch, scaler } = selfScaling ? { launch: rendered, scaler: false } : analysisLaunch(rendered, size, name);
  checkElements(launch);
  return { launch, scaler, fixed: selfScaling ? renderSourceSize(template, params) : null };
}
