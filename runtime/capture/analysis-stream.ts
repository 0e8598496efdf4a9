// capture/: the capture stage: a GStreamer pipeline from a template in pipelines/, scaled to the analysis
// size by GStreamer, handing on the newest frame (live) or every frame (QA).
import { LumenError } from '../errors.js';
import type { Size } from '../frame.js';

/**
 * The analysis stream: GStreamer scales the source to fit the analysis size, then converts the
 * (smaller) picture to RGBA, so full-resolution pixels never reach JavaScript. A second branch
 * tells the source's own size, which every coordinate on the wire is in: a few times a second
 * a valve lets one raw frame through to an RTP payloader, whose caps carry width and height;
 * the packets are dropped inside GStreamer and only their caps reach JavaScript. (videorate
 * would limit the rate by itself, but it aborts the process on buffers without a duration,
 * such as a single decoded picture.)
 */

/** The appsink that receives the analysis frames (every template has it). */
export const FRAME_SINK = 'sink';
/** The appsink whose caps say the source's size. */
export const SIZE_PROBE_SINK = 'lumen_size';
/** The valve in front of it, opened by the capture a few times a second. */
export const SIZE_PROBE_VALVE = 'lumen_size_valve';
/** Source-size reports per second: a resolution change is followed within 1 / this. */
export const SIZE_PROBE_RATE = 5;

/** A template that scales by itself (e.g. the VIC on a Jetson) marks where the size goes. */
export const ANALYSIS_PLACEHOLDER = 'analysis';

// The standard tail of a template: conversion to RGBA, then the appsink with its properties.
const TAIL = /(?:!\s*videoconvert\s*)?(?:!\s*video\/x-raw\s*,\s*format=(?:\(string\))?RGBA\s*)?!\s*appsink\s+name=sink\b(.*)$/;

export interface AnalysisLaunch {
  launch: string;
  /** Whether the launch line has the size-probe branch. */
  probe: boolean;
}

/**
 * Rewrites a rendered launch line so that its appsink receives the analysis stream. `size`
 * null keeps the full picture (the old behaviour). Live or QA differ only in the appsink's
 * properties (drop or wait), which the template's {sink} slot already carries.
 */
export function analysisLaunch(rendered: string, size: Size | null, template: string): AnalysisLaunch {
  if (size === null || rendered.includes('lumen_tee')) return { launch: rendered, probe: false };
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
  const analysis = `queue max-size-buffers=2 max-size-bytes=0 max-size-time=0 ! videoscale ! ${box} ! videoconvert ! video/x-raw,format=RGBA ! appsink name=${FRAME_SINK} ${sinkProps}`;
  // The probe never holds the stream back: its queue leaks and its sink drops. Its sink does not
  // wait at end of stream for its sample to be pulled (wait-on-eos=false): the valve drops every
  // event while closed, flushes included, so a looping seek's flush would never reach a sink
  // waiting there, and the seek (on the main thread) would wait for that branch forever.
  const probe = `queue max-size-buffers=1 max-size-bytes=0 max-size-time=0 leaky=downstream ! valve name=${SIZE_PROBE_VALVE} drop=false ! videoconvert ! rtpvrawpay mtu=60000 ! appsink name=${SIZE_PROBE_SINK} max-buffers=1 drop=true sync=false async=false wait-on-eos=false`;
  return { launch: `${head} ! tee name=lumen_tee ! ${analysis} lumen_tee. ! ${probe}`, probe: true };
}

/** The source size in a size-probe sample's caps (RTP caps carry width and height as strings). */
export function probedSize(caps: Record<string, unknown>): Size | null {
  const width = Number(caps.width);
  const height = Number(caps.height);
  return Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 ? { width, height } : null;
}
