// capture/: the capture stage: a GStreamer pipeline from a template in pipelines/, scaled to the analysis
// size by GStreamer, handing on the newest frame (live) or every frame (QA).
import { LumenError } from '../errors.js';
import type { Size } from '../frame.js';

/**
 * The analysis stream: GStreamer scales the source to fit the analysis size, then converts the
 * (smaller) picture to RGBA, so full-resolution pixels never reach JavaScript. The source's own
 * size, which every coordinate on the wire is in, is what the scaler's input pad negotiated:
 * read from its caps, no pixel of the full picture leaves GStreamer for it.
 */

/** The appsink that receives the analysis frames (every template has it). */
export const FRAME_SINK = 'sink';
/** The scaler the analysis stream adds; its sink pad's caps say the source's size. */
export const SCALER = 'lumen_scale';

/** A template that scales by itself (e.g. the VIC on a Jetson) marks where the size goes. */
export const ANALYSIS_PLACEHOLDER = 'analysis';

// The standard tail of a template: conversion to RGBA, then the appsink with its properties.
const TAIL = /(?:!\s*videoconvert\s*)?(?:!\s*video\/x-raw\s*,\s*format=(?:\(string\))?RGBA\s*)?!\s*appsink\s+name=sink\b(.*)$/;

export interface AnalysisLaunch {
  launch: string;
  /** Whether the launch line has the analysis scaler (SCALER), whose input says the source size. */
  scaler: boolean;
}

/**
 * Rewrites a rendered launch line so that its appsink receives the analysis stream. `size`
 * null keeps the full picture (the old behaviour). Live or QA differ only in the appsink's
 * properties (drop or wait), which the template's {sink} slot already carries.
 */
export function analysisLaunch(rendered: string, size: Size | null, template: string): AnalysisLaunch {
  if (size === null || rendered.includes(SCALER)) return { launch: rendered, scaler: false };
  const m = TAIL.exec(rendered);
  if (!m) {
    throw new LumenError('PIPELINE_TEMPLATE', `pipeline "${template}" does not end in "appsink name=sink {sink}"`, { template });
  }
  const head = rendered.slice(0, m.index).trim();
  const sinkProps = m[1].trim();
  const box = `video/x-raw,width=[1,${size.width}],height=[1,${size.height}],pixel-aspect-ratio=1/1`;
  // The queue is a thread boundary (scaling runs beside decoding), never a place to drop: the
  // appsink drops on the live path, and a file source must stay paced by the sink's clock (a
  // leaky queue here would let it race ahead and starve the sink).
  const analysis = `queue max-size-buffers=2 max-size-bytes=0 max-size-time=0 ! videoscale name=${SCALER} ! ${box} ! videoconvert ! video/x-raw,format=RGBA ! appsink name=${FRAME_SINK} ${sinkProps}`;
  return { launch: `${head} ! ${analysis}`, scaler: true };
}

/** The source size in a pad's caps; null when they hold none. */
export function sizeOfCaps(caps: Record<string, unknown>): Size | null {
  const width = Number(caps.width);
  const height = Number(caps.height);
  return Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 ? { width, height } : null;
}
