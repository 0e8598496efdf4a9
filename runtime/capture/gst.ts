/**
 * The one file that touches gstreamer-superficial. Its quirks live here:
 * - `new Pipeline()` throws a bare message on a parse error and prints it to stderr;
 * - appsink `pull` copies each buffer, gives caps but no timestamp, and occupies a libuv pool
 *   thread while it waits; a null buffer means EOS (or the pipeline was stopped);
 * - `pollBus` re-arms itself on a pool thread until the pipeline is in NULL state, and blocks
 *   that thread in the meantime (see runtime/env.ts for the pool size); auto-flush-bus is
 *   turned off so that the last message reaches it and it ends;
 * - when a pipeline fails to leave the NULL state (no device, bad file) the bus poll stops
 *   before the error message is read: `diagnose` asks gst-launch-1.0 for the reason instead;
 * - appsrc `push(buf, pts)` takes the PTS as an 8-byte big-endian buffer of nanoseconds;
 * - `pollBus` pins the pipeline and keeps its callback until the poll ends (the pipeline found in
 *   NULL after a message). Callbacks therefore reach their listeners through a relay that
 *   `stop()` empties, and an owner that makes one pipeline per file (the recorder) hands it back
 *   with `release()` for the next file of the same shape, which also saves parsing it again;
 * - `findChild` builds a new wrapper on every call, with V8 templates for its accessors and
 *   methods that are never collected (about 1 KB a call): each element is looked up once;
 * - as released (1.7.4, the latest), it never freed a pipeline (no destructor; messages left on
 *   an unflushed bus and its poll's bus references kept it alive: 20 fds and 0.2 MB per failed
 *   capture open), nor caps and bus-message fields it converted through a string (a framerate, an
 *   enum: ~70 bytes a pulled sample), property reads and error texts. The project's build fixes
 *   these (scripts/patches/gstreamer-superficial+1.7.4.patch, applied and rebuilt on install);
 *   test/gst-pipeline-free.test.ts and test/gst-pull-leak.test.ts fail without it;
 * - the same patch adds three things the frame path needs: a pull may name a buffer of the
 *   sample's size to copy into (on the pull's thread, not the main one; capture/frame-pool.ts),
 *   appsrc `pushWrapped` hands a buffer to GStreamer without a copy (test/frame-pool.test.ts,
 *   test/gst-hand-over.test.ts), and an element's `padCaps` reads what a pad negotiated (the
 *   source's size at the analysis scaler's input: test/analysis-stream.test.ts).
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { LumenError, messageOf } from '../errors.js';

interface NativeElement {
  pull?(cb: (buf: Buffer | null, caps: Record<string, unknown>) => void, into?: Buffer): void;
  push?(buf: Buffer, pts?: Buffer): void;
  pushWrapped?(buf: Uint8Array, pts?: Buffer): void;
  padCaps?(pad: string): Caps | null;
  [prop: string]: unknown;
}

interface NativePipeline {
  play(): void;
  stop(): void;
  sendEOS(): void;
  seek(seconds: number, flags: number): boolean;
  findChild(name: string): NativeElement | undefined;
  pollBus(cb: (msg: BusMessage) => void): void;
  'auto-flush-bus': boolean;
  /** Seconds: GstPipeline's "latency" (GST_CLOCK_TIME_NONE, a huge value, while it is computed). */
  latency: number;
}

/** A bus message as the binding reports it: `type` plus the message structure's fields. */
export interface BusMessage {
  type: string;
  _src_element_name?: string;
  message?: string;
  name?: string;
  [field: string]: unknown;
}

/** Caps of a pulled sample (the first structure), e.g. { name: 'video/x-raw', width: 640 }. */
export type Caps = Record<string, unknown>;

const require = createRequire(import.meta.url);
const gst = require('gstreamer-superficial') as { Pipeline: new (description: string) => NativePipeline };

/** GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT */
const SEEK_FLUSH_KEY_UNIT = 1 | 4;

/** Whether this machine's GStreamer has an element factory of that name. */
export function hasElement(factory: string): boolean {
  try {
    // A lone element would be returned uncast as a "pipeline"; beside fakesink it sits in a real bin.
    const p = new gst.Pipeline(`${factory} fakesink`);
    p.stop();
    return true;
  } catch {
    // GStreamer refuses a description naming a factory it does not have.
    return false;
  }
}

/**
 * Runs the launch line briefly with gst-launch-1.0 and returns its ERROR line, if any: the
 * reason a pipeline could not start, which the binding's bus poll misses (see above).
 */
export function diagnose(launch: string, timeoutMs = 5000): Promise<string | null> {
  return new Promise((resolve) => {
    // gst-launch quotes each argument as one token: split the line the way a shell would.
    const args = (launch.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []).map((a) => a.replace(/"/g, ''));
    execFile('gst-launch-1.0', ['-q', ...args], { timeout: timeoutMs }, (_err, stdout, stderr) => {
      const line = `${stdout}\n${stderr}`.split('\n').find((l) => l.startsWith('ERROR'));
      resolve(line ? line.replace(/^ERROR: (from element )?/, '').trim() : null);
    });
  });
}

/** Each pipeline's elements, looked up once: the binding's findChild leaks on every call. */
const elements = new WeakMap<NativePipeline, Map<string, NativeElement | undefined>>();

function child(native: NativePipeline, name: string): NativeElement | undefined {
  let known = elements.get(native);
  if (!known) elements.set(native, (known = new Map<string, NativeElement | undefined>()));
  if (!known.has(name)) known.set(name, native.findChild(name));
  return known.get(name);
}

/** Stopped pipelines by launch line, whose bus poll has ended: `reuse` takes one instead of parsing anew. */
const idle = new Map<string, NativePipeline[]>();

/** Pipelines parsed by this process, and those stopped and waiting to be reused. */
export function pipelineCounts(): { made: number; idle: number } {
  return { made, idle: [...idle.values()].reduce((n, l) => n + l.length, 0) };
}
let made = 0;

/** A parsed GStreamer pipeline. */
export class GstPipeline {
  private readonly native: NativePipeline;
  /** What the binding's bus callback reaches; emptied by stop(), so the callback pins nothing else. */
  private relay: { listeners: ((m: BusMessage) => void)[]; dispatching: boolean } = { listeners: [], dispatching: false };
  private polling = false;
  private stopped = false;

  /** `reuse`: take an idle pipeline of the same launch line, if one was released. */
  constructor(
    readonly description: string,
    opts: { reuse?: boolean } = {},
  ) {
    const again = opts.reuse ? idle.get(description)?.pop() : undefined;
    if (again) {
      this.native = again;
      return;
    }
    try {
      this.native = new gst.Pipeline(description);
      // Keep the bus unflushed on the way to NULL: the poll thread then receives the final
      // state change, sees NULL and stops, instead of waiting forever for a message that a
      // flushed bus never delivers (which would keep the process alive).
      this.native['auto-flush-bus'] = false;
      made++;
    } catch (err) {
      throw new LumenError('PIPELINE_START', `GStreamer cannot parse the pipeline: ${messageOf(err)}`, { description });
    }
  }

  /** Subscribes to bus messages (errors, EOS, state changes). */
  onBus(listener: (m: BusMessage) => void): void {
    this.relay.listeners.push(listener);
    if (this.polling) return;
    this.polling = true;
    const relay = this.relay;
    this.native.pollBus((m) => {
      relay.dispatching = true;
      try {
        for (const l of relay.listeners) l(m);
      } finally {
        relay.dispatching = false;
      }
    });
  }

  play(): void {
    this.stopped = false;
    this.native.play();
  }

  /**
   * Sinks render each buffer at its own timestamp, with no allowance for the latency the live
   * elements report (GstPipeline "latency" 0). A live source's frames then reach an appsink as
   * soon as they are converted: they are late by the conversion, and an appsink never drops a
   * late buffer. Otherwise every live frame is held for the detected latency (20 ms for a still
   * repeated live, a frame period for a capture card) before it is handed over. A source that
   * is not live (a file) stays paced by its timestamps.
   */
  renderAtTimestamps(): void {
    this.native.latency = 0;
  }

  /** The latency the sinks allow for, in seconds (0 after renderAtTimestamps). */
  get latencySeconds(): number {
    return this.native.latency;
  }

  /** Stops (NULL state); a pending pull then resolves null. Safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.native.stop();
    this.relay.listeners = [];
  }

  /**
   * Stops the pipeline and keeps it for the next `new GstPipeline(sameLine, { reuse: true })`.
   * Only where its bus poll is known to end: never polled, or released from a bus listener (the
   * binding ends the poll when it finds the pipeline in NULL after the callback); elsewhere a
   * poll may still wait on the bus and would take the next user's messages, so it is only
   * stopped. For a pipeline that ended cleanly (an error may still wait on its bus).
   */
  release(): void {
    const reusable = !this.polling || this.relay.dispatching;
    this.stop();
    if (!reusable) return;
    // After the binding's check that follows this callback, before anyone can take it.
    setImmediate(() => {
      const list = idle.get(this.description) ?? [];
      list.push(this.native);
      idle.set(this.description, list);
    });
  }

  sendEos(): void {
    this.native.sendEOS();
  }

  /** Flushing seek to `seconds` (whole seconds: the binding truncates to an integer). */
  seek(seconds: number): boolean {
    return this.native.seek(seconds, SEEK_FLUSH_KEY_UNIT);
  }

  appsink(name: string): AppSink {
    return new AppSink(this.named(name, 'appsink', 'pull'));
  }

  appsrc(name: string): AppSrc {
    return new AppSrc(this.named(name, 'appsrc', 'push'));
  }

  /** The caps a named element's static pad has negotiated (first structure), or null: none yet, or no such pad. */
  padCaps(element: string, pad: string): Caps | null {
    return this.named(element, 'element', 'padCaps').padCaps!(pad);
  }

  /** Sets a property on a named element (e.g. a videocrop's margins while running). */
  setProperty(element: string, prop: string, value: unknown): void {
    this.named(element, 'element')[prop] = value;
  }

  /** The named element, with `method` when one is asked for; refused with the name otherwise. */
  private named(name: string, kind: string, method?: 'pull' | 'push' | 'padCaps'): NativeElement {
    const el = child(this.native, name);
    if (!el || (method && typeof el[method] !== 'function')) {
      throw new LumenError('PIPELINE_START', `the pipeline has no ${kind} named "${name}"`, { description: this.description });
    }
    return el;
  }
}

export interface Sample {
  buf: Buffer;
  caps: Caps;
}

export class AppSink {
  constructor(private readonly el: NativeElement) {}

  /**
   * The next sample, or null at EOS / when the pipeline stops. With `into`, a sample of exactly
   * its size is copied into it off the main thread and `buf` is `into` itself (the project's
   * binding patch); one of another size comes in a new Buffer. `into` must not be touched until
   * the pull resolves.
   */
  pull(into?: Buffer): Promise<Sample | null> {
    return new Promise((resolve) => {
      this.el.pull!((buf, caps) => resolve(buf ? { buf, caps } : null), into);
    });
  }
}

export class AppSrc {
  private readonly pts = Buffer.alloc(8);

  constructor(private readonly el: NativeElement) {}

  /** Pushes one buffer (copied into GStreamer's) with its presentation time in nanoseconds. */
  push(buf: Uint8Array, ptsNs: bigint): void {
    this.pts.writeBigUInt64BE(ptsNs);
    this.el.push!(Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), this.pts);
  }

  /**
   * Pushes one buffer without copying it: GStreamer reads these bytes, read-only, until it is done
   * with them, and keeps their memory alive until then (the project's binding patch). The caller
   * must never write them again. A 960×540 frame is 2 MB: a copy of it into fresh memory cost the
   * frame path 1–4 ms.
   */
  handOver(buf: Uint8Array, ptsNs: bigint): void {
    this.pts.writeBigUInt64BE(ptsNs);
    this.el.pushWrapped!(buf, this.pts);
  }
}
