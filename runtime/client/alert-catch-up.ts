// client/: each alert once and in order — gaps in alert seq filled from history, retried with back-off.
import { LumenError, messageOf, type ErrorCode } from '../errors.js';
import { TOPICS, type AlertHeader } from '../publish/protocol.js';
import { CLIENT_EVENTS, type LumenMessage } from './messages.js';

/** Live alerts kept while a gap before them is being filled; older ones are re-fetched instead. */
const MAX_HELD = 64;

/** What one history fetch came back with. */
export type FillResult = { ok: true; events: AlertHeader[]; lastSeq: number } | { ok: false; err: unknown };

/** Alerts after `after` from the history endpoint, and the daemon's newest seq then. */
export type FetchAlerts = (after: number) => Promise<{ events: AlertHeader[]; lastSeq: number }>;

/**
 * Orders alerts for delivery: a live alert that follows the last delivered one goes out at once;
 * after a gap it is held back while the gap is fetched from history. A failed fetch is reported
 * (CLIENT_EVENTS.historyFailed) and retried with back-off; the first success after failures is
 * reported too (CLIENT_EVENTS.historyRecovered).
 */
export class AlertCatchUp {
  private lastAlertSeq: number | undefined;
  private closed = false;
  /** Newest alert seq known to exist; the client fills up to it. */
  private newest: number | null = null;
  /** Live alerts that arrived after a gap, waiting for the gap to be filled (seq order). */
  private held: AlertHeader[] = [];
  /** The history request in flight (or waiting to retry), resolving with its outcome. */
  private fillTask: Promise<{ fill: FillResult }> | null = null;
  private failures = 0;
  private firstFailureAt = 0;
  private retryTimer: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  /** Successful history fetches after a gap (or at connect). */
  gapsFilled = 0;

  /**
   * `fetch` null: no history endpoint, gaps are not filled. `after`: the last alert seq already
   * seen (undefined: deliver from the first alert received). Retries wait `retryMinMs`, doubling
   * per failure up to `retryMaxMs`.
   */
  constructor(
    private readonly fetch: FetchAlerts | null,
    after: number | undefined,
    private readonly retryMinMs: number,
    private readonly retryMaxMs: number,
  ) {
    this.lastAlertSeq = after;
  }

  /** Seq of the last alert delivered. */
  get seq(): number | undefined {
    return this.lastAlertSeq;
  }

  /** The history fetch in flight or waiting to retry, if any; its outcome goes to `filled()`. */
  get task(): Promise<{ fill: FillResult }> | null {
    return this.fillTask;
  }

  /** At connect with a starting seq: fetch everything after it. */
  begin(): void {
    if (this.lastAlertSeq !== undefined && this.fetch) this.startFill(0);
  }

  /** A seq known to exist (a live alert, status.alertSeq): catch up on any never received. */
  noteNewest(seq: number): void {
    if (!Number.isInteger(seq)) return;
    this.newest = Math.max(this.newest ?? 0, seq);
    if (this.lastAlertSeq !== undefined && this.newest > this.lastAlertSeq && this.fetch && !this.fillTask) this.startFill(0);
  }

  /** A live alert: delivered now, or held back until the gap before it is filled. */
  *live(h: AlertHeader): Generator<LumenMessage> {
    const last = this.lastAlertSeq;
    if (last !== undefined && h.seq <= last) return; // already delivered
    if (last === undefined || h.seq === last + 1 || !this.fetch) {
      yield* this.deliver(h, false);
      yield* this.flushHeld();
      return;
    }
    // A gap: hold this one back until what came before it has been fetched.
    if (!this.held.some((x) => x.seq === h.seq)) {
      this.held.push(h);
      this.held.sort((a, b) => a.seq - b.seq);
      if (this.held.length > MAX_HELD) this.held.shift();
    }
    this.noteNewest(h.seq);
  }

  /** The outcome of `task`: the fetched alerts and the held ones after them, or a failure notice and a retry. */
  *filled(r: FillResult): Generator<LumenMessage> {
    this.fillTask = null;
    if (!r.ok) {
      this.failures++;
      if (this.failures === 1) this.firstFailureAt = Date.now();
      const retryInMs = Math.min(this.retryMaxMs, this.retryMinMs * 2 ** (this.failures - 1));
      const code: ErrorCode = r.err instanceof LumenError ? r.err.code : 'HISTORY_UNAVAILABLE';
      yield {
        topic: CLIENT_EVENTS.historyFailed,
        header: { after: this.lastAlertSeq ?? 0, newest: this.newest, attempt: this.failures, retryInMs, code, message: messageOf(r.err) },
      };
      this.startFill(retryInMs);
      return;
    }
    if (this.failures > 0) {
      yield { topic: CLIENT_EVENTS.historyRecovered, header: { attempts: this.failures, downMs: Date.now() - this.firstFailureAt } };
      this.failures = 0;
    }
    this.gapsFilled++;
    for (const e of r.events) yield* this.deliver(e, true);
    // The daemon's newest seq at the time of the answer; alerts after it arrive live or by a next fill.
    this.newest = Math.max(this.lastAlertSeq ?? 0, r.lastSeq, this.held.at(-1)?.seq ?? 0);
    yield* this.flushHeld();
    if (this.lastAlertSeq !== undefined && this.newest > this.lastAlertSeq) this.startFill(0);
  }

  /** Delivers held live alerts that now follow the last delivered one. */
  private *flushHeld(): Generator<LumenMessage> {
    while (this.held.length && this.lastAlertSeq !== undefined && this.held[0].seq <= this.lastAlertSeq + 1) {
      const h = this.held.shift()!;
      yield* this.deliver(h, false);
    }
  }

  private startFill(delayMs: number): void {
    const fetch = this.fetch;
    if (this.fillTask || this.closed || !fetch) return;
    this.fillTask = (async (): Promise<{ fill: FillResult }> => {
      if (delayMs > 0) {
        await new Promise<void>((resolve) => (this.retryTimer = { timer: setTimeout(resolve, delayMs), resolve }));
        this.retryTimer = undefined;
      }
      if (this.closed) return { fill: { ok: false, err: new Error('closed') } };
      try {
        return { fill: { ok: true, ...(await fetch(this.lastAlertSeq ?? 0)) } };
      } catch (err) {
        return { fill: { ok: false, err } };
      }
    })();
  }

  /** Stops waiting to retry; a waiting retry resolves (and then finds the catch-up closed, or fetches). */
  cancelRetry(): void {
    if (!this.retryTimer) return;
    clearTimeout(this.retryTimer.timer);
    this.retryTimer.resolve();
    this.retryTimer = undefined;
  }

  private *deliver(h: AlertHeader, recovered: boolean): Generator<LumenMessage> {
    if (this.lastAlertSeq !== undefined && h.seq <= this.lastAlertSeq) return; // already delivered
    this.lastAlertSeq = h.seq;
    yield { topic: TOPICS.alert, header: h, recovered };
  }

  /** No more fetches; a waiting retry ends. Safe to call twice. */
  close(): void {
    this.closed = true;
    this.cancelRetry();
  }
}
