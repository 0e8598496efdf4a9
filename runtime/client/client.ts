// client/: the reference client of the wire protocol, for bedside monitors and the tests.
/**
 * The reference client of the Lumen wire protocol (docs/protocol.md), for bedside monitors and
 * tests. It subscribes to the daemon's PUB socket and, for alerts, guarantees each event once
 * and in order: a gap in alert `seq` (slow subscriber, restart, late join) is filled from the
 * history endpoint before any newer alert is delivered. When the history endpoint does not
 * answer, the client says so (a `client.history-failed` message, never "nothing missed"), holds
 * the newer alerts back and asks again with back-off; status and overlays keep flowing meanwhile.
 */
import { ERROR_CODES, errnoOf, LumenError, messageOf, type ErrorCode } from '../errors.js';
import {
  HISTORY_MAX_LIMIT,
  PROTOCOL_VERSION,
  TOPIC_TABLE,
  TOPICS,
  topicKey,
  type AlertHeader,
  type ClipInfo,
  type HistoryReply,
  type HistoryRequest,
  type TopicHeaders,
  type TopicKey,
  type TopicSpec,
  type UncheckedHeader,
} from '../publish/protocol.js';
import { connectRequest, connectSubscriber, type CurveClient, type Request, type Subscriber } from '../publish/zmq.js';

/** Messages the client itself makes (not from the wire): how alert history is doing. */
export const CLIENT_EVENTS = {
  historyFailed: 'client.history-failed',
  historyRecovered: 'client.history-recovered',
} as const;

/** A history request failed: alerts after `after` are held back until one succeeds. */
export interface HistoryFailure {
  /** Seq of the last alert delivered (0: none yet); everything after it is not delivered yet. */
  after: number;
  /** Newest alert seq known to exist (from a live alert or status.alertSeq), null if unknown. */
  newest: number | null;
  /** Consecutive failed attempts, from 1. */
  attempt: number;
  /** The next attempt starts in this many ms. */
  retryInMs: number;
  /** HISTORY_UNAVAILABLE (no answer in time) or PROTOCOL (an error reply or a garbled one). */
  code: ErrorCode;
  message: string;
}

/** History answered again after failed attempts; the held-back alerts follow this message. */
export interface HistoryRecovery {
  /** Failed attempts before this success. */
  attempts: number;
  /** From the first failure to this success, ms. */
  downMs: number;
}

/** A payload as the topic table says: none, always a Buffer, or (overlay) the PNG when header.format is 'png', else null. */
type PayloadField<K extends TopicKey> = (typeof TOPIC_TABLE)[K]['payload'] extends 'always'
  ? { payload: Buffer }
  : (typeof TOPIC_TABLE)[K]['payload'] extends 'png'
    ? { payload: Buffer | null }
    : unknown;

/** A message of one topic, as the topic table describes it; an alert also says whether it was fetched from history. */
export type TopicMessage<K extends TopicKey> = { topic: (typeof TOPICS)[K]; header: TopicHeaders[K] } & PayloadField<K> &
  (K extends 'alert' ? { /** Fetched from history, not received live. */ recovered: boolean } : unknown);

/** Everything the client delivers: one message per topic received (see TOPIC_TABLE), and its own history notices. */
export type LumenMessage =
  | { [K in TopicKey]: TopicMessage<K> }[TopicKey]
  | { topic: typeof CLIENT_EVENTS.historyFailed; header: HistoryFailure }
  | { topic: typeof CLIENT_EVENTS.historyRecovered; header: HistoryRecovery };

export interface ClientOptions {
  endpoint: string;
  /** History endpoint; without it gaps are not filled (newer alerts are delivered as they come). */
  historyEndpoint?: string;
  /** Topic names to receive (default: status, alert, overlay). */
  topics?: readonly string[];
  /** Fetch every alert after this seq at connect (0 = all the daemon remembers). */
  catchUpAfter?: number;
  /** How long one history request may take, ms (default 3000). */
  historyTimeoutMs?: number;
  /** Wait before the first retry of a failed history request, ms (default 500); doubles per failure. */
  historyRetryMinMs?: number;
  /** Longest wait between history retries, ms (default 15000). */
  historyRetryMaxMs?: number;
  receiveHighWaterMark?: number;
  curve?: CurveClient;
}

/** Live alerts kept while a gap before them is being filled; older ones are re-fetched instead. */
const MAX_HELD = 64;

type FillResult = { ok: true; events: AlertHeader[]; lastSeq: number } | { ok: false; err: unknown };

export class LumenClient {
  private readonly sub: Subscriber;
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
  private readonly requests = new Set<Request>();
  /** Messages that were not valid protocol messages (skipped). */
  malformed = 0;
  /** Successful history fetches after a gap (or at connect). */
  gapsFilled = 0;

  constructor(private readonly opts: ClientOptions) {
    const topics = opts.topics ?? [TOPICS.status, TOPICS.alert, TOPICS.overlay];
    this.sub = connectSubscriber(opts.endpoint, topics, opts.receiveHighWaterMark ?? 1000, opts.curve);
    this.lastAlertSeq = opts.catchUpAfter;
  }

  /** Seq of the last alert delivered. */
  get alertSeq(): number | undefined {
    return this.lastAlertSeq;
  }

  /** Asks the history endpoint for alerts after `after`, following `more` until done. */
  async history(after: number): Promise<AlertHeader[]> {
    return (await this.fetch(after)).events;
  }

  private async fetch(after: number): Promise<{ events: AlertHeader[]; lastSeq: number }> {
    const out: AlertHeader[] = [];
    let cursor = after;
    for (;;) {
      const reply = await this.request({ v: PROTOCOL_VERSION, op: 'since', after: cursor, limit: HISTORY_MAX_LIMIT });
      if (!('events' in reply)) throw new LumenError('PROTOCOL', `history reply from ${this.opts.historyEndpoint} has no events`);
      out.push(...reply.events);
      if (!reply.more || reply.events.length === 0) return { events: out, lastSeq: reply.lastSeq };
      cursor = reply.events[reply.events.length - 1].seq;
    }
  }

  /**
   * The record of a recording (an alert's `clip.id`, or a segment) from the history endpoint:
   * state, frames, size. Throws CLIP_UNKNOWN or CLIP_DELETED as the daemon answers.
   */
  async clip(id: string): Promise<ClipInfo> {
    const reply = await this.request({ v: PROTOCOL_VERSION, op: 'clip', id });
    if (!('clip' in reply)) throw new LumenError('PROTOCOL', `history reply from ${this.opts.historyEndpoint} has no clip`);
    return reply.clip;
  }

  /** One request and its successful reply; an error reply throws with the daemon's code. */
  private async request(body: HistoryRequest): Promise<Extract<HistoryReply, { ok: true }>> {
    if (!this.opts.historyEndpoint) throw new LumenError('USAGE', 'no history endpoint configured');
    const timeoutMs = this.opts.historyTimeoutMs ?? 3000;
    const req = connectRequest(this.opts.historyEndpoint, timeoutMs, this.opts.curve);
    this.requests.add(req);
    try {
      await req.send(JSON.stringify(body));
      const [raw] = await req.receive();
      let reply: HistoryReply;
      try {
        reply = JSON.parse(raw.toString('utf8')) as HistoryReply;
      } catch {
        throw new LumenError('PROTOCOL', `history reply from ${this.opts.historyEndpoint} is not JSON`);
      }
      if (!reply.ok) {
        // A code this version does not know (a newer daemon's) is reported as a protocol problem.
        const code: ErrorCode = Object.hasOwn(ERROR_CODES, reply.error.code) ? reply.error.code : 'PROTOCOL';
        throw new LumenError(code, code === 'PROTOCOL' ? `history request refused: ${reply.error.message}` : reply.error.message);
      }
      return reply;
    } catch (err) {
      if (err instanceof LumenError) throw err;
      // A timed-out receive is EAGAIN: say what it means here.
      const what = errnoOf(err) === 'EAGAIN' ? `no answer within ${timeoutMs} ms` : messageOf(err);
      throw new LumenError('HISTORY_UNAVAILABLE', `history endpoint ${this.opts.historyEndpoint}: ${what}`, {}, { cause: err });
    } finally {
      this.requests.delete(req);
      req.close();
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LumenMessage> {
    if (this.lastAlertSeq !== undefined && this.opts.historyEndpoint) this.startFill(0);
    // One receive is outstanding at a time; it survives a fill result winning the race.
    let recv: Promise<Buffer[]> | null = null;
    try {
      while (!this.closed) {
        recv ??= this.sub.receive();
        const next: { frames: Buffer[] } | { fill: FillResult } = this.fillTask
          ? await Promise.race([recv.then((frames) => ({ frames })), this.fillTask])
          : { frames: await recv };
        if ('fill' in next) {
          this.fillTask = null;
          yield* this.onFill(next.fill);
          continue;
        }
        recv = null;
        const msg = this.parse(next.frames);
        if (!msg) continue;
        if (msg.topic === TOPICS.alert) {
          yield* this.onLiveAlert(msg.header);
          continue;
        }
        // The status heartbeat says which alert is newest: catch up on any never received.
        if (msg.topic === TOPICS.status) this.noteNewest(msg.header.alertSeq);
        yield msg;
      }
    } catch (err) {
      if (!this.closed) throw new LumenError('PROTOCOL', `subscription failed: ${messageOf(err)}`);
    } finally {
      this.cancelRetry();
    }
  }

  private noteNewest(seq: number): void {
    if (!Number.isInteger(seq)) return;
    this.newest = Math.max(this.newest ?? 0, seq);
    if (this.lastAlertSeq !== undefined && this.newest > this.lastAlertSeq && this.opts.historyEndpoint && !this.fillTask) this.startFill(0);
  }

  private *onLiveAlert(h: AlertHeader): Generator<LumenMessage> {
    const last = this.lastAlertSeq;
    if (last !== undefined && h.seq <= last) return; // already delivered
    if (last === undefined || h.seq === last + 1 || !this.opts.historyEndpoint) {
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

  private *onFill(r: FillResult): Generator<LumenMessage> {
    if (!r.ok) {
      this.failures++;
      if (this.failures === 1) this.firstFailureAt = Date.now();
      const min = this.opts.historyRetryMinMs ?? 500;
      const retryInMs = Math.min(this.opts.historyRetryMaxMs ?? 15_000, min * 2 ** (this.failures - 1));
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
    if (this.fillTask || this.closed) return;
    this.fillTask = (async (): Promise<{ fill: FillResult }> => {
      if (delayMs > 0) {
        await new Promise<void>((resolve) => (this.retryTimer = { timer: setTimeout(resolve, delayMs), resolve }));
        this.retryTimer = undefined;
      }
      if (this.closed) return { fill: { ok: false, err: new Error('closed') } };
      try {
        return { fill: { ok: true, ...(await this.fetch(this.lastAlertSeq ?? 0)) } };
      } catch (err) {
        return { fill: { ok: false, err } };
      }
    })();
  }

  private cancelRetry(): void {
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

  private parse(frames: Buffer[]): LumenMessage | null {
    try {
      const topic = frames[0].toString('utf8');
      const key = topicKey(topic);
      if (!key) throw new Error(`unknown topic ${topic}`);
      // Checked here for what the client relies on; the topic's type says the rest.
      const header = JSON.parse(frames[1].toString('utf8')) as UncheckedHeader<typeof key>;
      if (header.v !== PROTOCOL_VERSION || !Number.isInteger(header.seq)) throw new Error('bad header');
      const spec: TopicSpec<typeof key> = TOPIC_TABLE[key];
      const problem = spec.check?.(header);
      if (problem) throw new Error(problem);
      const payload = payloadOf(spec, header, frames[2]);
      const msg = { topic, header, ...payload, ...(key === 'alert' ? { recovered: false } : {}) };
      return msg as LumenMessage;
    } catch {
      // Counted, not thrown: a garbled message must not end a monitor's subscription.
      this.malformed++;
      return null;
    }
  }

  /** Ends the iteration. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelRetry();
    for (const r of this.requests) r.close();
    this.sub.close();
  }
}

/** The payload field a topic's message carries, or throws naming what is missing. */
function payloadOf(spec: TopicSpec<TopicKey>, header: object, frame: Buffer | undefined): { payload?: Buffer | null } {
  switch (spec.payload) {
    case 'none':
      return {};
    case 'always':
      if (!frame) throw new Error(`${spec.name} without payload`);
      return { payload: frame };
    case 'png':
      if (!('format' in header) || header.format !== 'png') return { payload: null };
      if (!frame) throw new Error('png overlay without payload');
      return { payload: frame };
  }
}
