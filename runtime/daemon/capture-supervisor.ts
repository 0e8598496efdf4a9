// daemon/: the live appliance (daemon.ts) and the parts it owns: capture supervision, status, model swaps, operations (watchdog, health, degrade).
import { existsSync } from 'node:fs';
import { Capture, type CaptureOptions } from '../capture/capture.js';
import { isLumenError, messageOf } from '../errors.js';
import type { Frame } from '../frame.js';
import type { Logger } from '../log.js';

/**
 * Keeps a capture running for as long as the daemon runs. A source that stops sending (an
 * endoscope unplugged between procedures, a stalled stream) is "no signal" within a second — a
 * state, not a fault — and the capture is re-opened with backoff for as long as it takes; a
 * source that ends (a recording played once) is "ended". Every attempt is logged and counted.
 */

/** What the supervisor knows about the video signal, as status reports it. */
export interface SignalStatus {
  state: 'live' | 'no-signal' | 'ended';
  /** ms since the epoch when the state began. */
  since: number;
  /** Capture (re)starts after the first one. */
  restarts: number;
  /** Why the last attempt failed or the stream stopped, if it did. */
  lastError: string | null;
  /** When the next attempt is due (ms since the epoch), while waiting for one. */
  nextRetryAt: number | null;
}

export interface SupervisorOptions {
  capture: CaptureOptions;
  /** First retry delay, ms (0.5 s); doubles per failed attempt up to maxRetryMs (30 s). */
  retryMs?: number;
  maxRetryMs?: number;
  /**
   * A signal silent for this long is re-opened (after "no signal" was already reported), ms.
   * Most stalls end in the same pipeline (a stream that resumes), and each re-open costs memory,
   * so this is long; errors and ends re-open at once.
   */
  reopenAfterMs?: number;
  /** Called whenever the state changes. */
  onChange?: (s: SignalStatus) => void;
}

// Longest wait between re-opens of a capture that opens but stays silent.
const MAX_REOPEN_MS = 5 * 60_000;
// No frame for this many frame intervals is a lost signal, bounded to [250 ms, 1 s].
const STALL_INTERVALS = 5;
const STALL_MIN_MS = 250;
const STALL_MAX_MS = 1000;

export class CaptureSupervisor {
  private capture: Capture | null = null;
  private closed = false;
  private failures = 0;
  private lastFrameAt = 0;
  private intervalMs = 100;
  private wake: (() => void) | null = null;
  /** The capture's pending next(), kept across stall ticks (a mailbox has one waiter). */
  private pending: Promise<Frame | null> | null = null;
  private reopenAfterMs: number;
  private readonly status: SignalStatus = { state: 'no-signal', since: Date.now(), restarts: -1, lastError: null, nextRetryAt: null };
  /** Frames captured and dropped by captures already closed. */
  private readonly retired = { captured: 0, dropped: 0 };

  constructor(
    private readonly opts: SupervisorOptions,
    private readonly log: Logger,
  ) {
    this.reopenAfterMs = opts.reopenAfterMs ?? 10_000;
  }

  get signal(): SignalStatus {
    return { ...this.status };
  }

  /** Frames that left GStreamer and frames the mailbox replaced, over every capture. */
  get counts(): { captured: number; dropped: number } {
    const s = this.capture?.stats;
    return { captured: this.retired.captured + (s?.captured ?? 0), dropped: this.retired.dropped + (s?.dropped ?? 0) };
  }

  /**
   * Opens the first capture. Refusals of the configuration (template, parameter, element) are
   * thrown; a source that is not there yet is "no signal" and retried by `next()`.
   */
  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      if (fatal(err)) throw err;
      this.failed(err);
    }
  }

  /** The next frame; null once closed or after the source ended. Never throws for the source. */
  async next(): Promise<Frame | null> {
    while (!this.closed) {
      if (this.status.state === 'ended') return null;
      if (!this.capture) {
        await this.retry();
        continue;
      }
      const stallMs = Math.round(Math.min(STALL_MAX_MS, Math.max(STALL_MIN_MS, STALL_INTERVALS * this.intervalMs)));
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<'stall'>((r) => (timer = setTimeout(() => r('stall'), stallMs)));
      let got: Frame | null | 'stall';
      try {
        this.pending ??= this.capture.next();
        got = await Promise.race([this.pending, stalled]);
        if (got !== 'stall') this.pending = null;
      } catch (err) {
        this.pending = null;
        this.retire();
        this.failed(err);
        continue;
      } finally {
        clearTimeout(timer);
      }
      if (got === 'stall') {
        this.set('no-signal', `no frame for ${stallMs} ms`);
        if (Date.now() - this.lastFrameAt >= this.reopenAfterMs) {
          // Each re-open costs memory GStreamer's binding does not give back (about 1.5 MB): a
          // long silence is re-opened ever less often (doubling up to five minutes).
          this.reopenAfterMs = Math.min(MAX_REOPEN_MS, this.reopenAfterMs * 2);
          this.log.warn({ silentMs: Date.now() - this.lastFrameAt }, 'no signal: re-opening the capture');
          this.retire();
          this.failed(new Error(`no frame for ${Date.now() - this.lastFrameAt} ms`));
        }
        continue;
      }
      if (got === null) {
        if (this.closed) return null;
        this.retire();
        if (!this.opts.capture.loop) {
          this.set('ended', 'capture source ended');
          this.log.warn('capture source ended');
          return null;
        }
        this.failed(new Error('the source ended (unplugged, or a stream that stopped)'));
        continue;
      }
      const now = Date.now();
      if (this.lastFrameAt) this.intervalMs = 0.8 * this.intervalMs + 0.2 * Math.min(1000, now - this.lastFrameAt);
      this.lastFrameAt = now;
      if (this.status.state !== 'live') {
        this.failures = 0;
        this.reopenAfterMs = this.opts.reopenAfterMs ?? 10_000;
        this.log.info({ restarts: this.status.restarts }, 'signal live');
        this.set('live', null);
      }
      return got;
    }
    return null;
  }

  private async open(): Promise<void> {
    this.status.restarts++;
    this.capture = await Capture.open(this.opts.capture, this.log);
    this.lastFrameAt = Date.now();
  }

  /**
   * Waits for the next attempt (backoff), then tries once; ticks while waiting. While the
   * source's device node or file is absent (a capture card unplugged), nothing is opened: the
   * path is watched instead, so the attempt comes as soon as it is back, and costs nothing before.
   */
  private async retry(): Promise<void> {
    const missing = this.missingPath();
    if (missing) {
      this.set('no-signal', `waiting for ${missing} to appear`);
      this.status.nextRetryAt = null;
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 500);
      });
      return;
    }
    const delay = Math.min(this.opts.maxRetryMs ?? 30_000, (this.opts.retryMs ?? 500) * 2 ** Math.max(0, this.failures - 1));
    this.status.nextRetryAt = Date.now() + delay;
    for (const until = Date.now() + delay; !this.closed && Date.now() < until;) {
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, Math.min(500, until - Date.now()));
      });
    }
    this.status.nextRetryAt = null;
    if (this.closed) return;
    try {
      this.log.info({ attempt: this.failures + 1 }, 'capture: trying the source again');
      await this.open();
    } catch (err) {
      this.failed(err);
    }
  }

  private failed(err: unknown): void {
    this.failures++;
    const message = messageOf(err);
    this.log.warn({ attempt: this.failures, err: message }, 'no signal');
    this.set('no-signal', message);
  }

  private set(state: SignalStatus['state'], error: string | null): void {
    const changed = state !== this.status.state || (error !== null && error !== this.status.lastError);
    if (state !== this.status.state) this.status.since = Date.now();
    this.status.state = state;
    if (error !== null) this.status.lastError = error;
    if (changed) this.opts.onChange?.(this.signal);
  }

  private retire(): void {
    if (!this.capture) return;
    const s = this.capture.stats;
    this.retired.captured += s.captured;
    this.retired.dropped += s.dropped;
    this.capture.close();
    this.capture = null;
    this.pending = null;
  }

  /** The first of the template's device or file parameters that names an absent path. */
  private missingPath(): string | null {
    const p = this.opts.capture.params;
    for (const key of ['device', 'location']) {
      const v = p[key];
      if (v && v.startsWith('/') && !v.includes('%') && !existsSync(v)) return v;
    }
    return null;
  }

  /** Stops the capture; a waiting `next()` resolves null. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.retire();
    this.wake?.();
  }
}

/** A configuration the source can never satisfy: refused at start, not retried. */
function fatal(err: unknown): boolean {
  return isLumenError(err) && ['PIPELINE_TEMPLATE', 'PIPELINE_PARAM', 'PIPELINE_ELEMENT', 'CONFIG_INVALID'].includes(err.code);
}
