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
  type TopicKey,
  type TopicSpec,
  type UncheckedHeader,
} from '../publish/protocol.js';
import { connectRequest, connectSubscriber, type CurveClient, type Request, type Subscriber } from '../publish/zmq.js';
import { AlertCatchUp } from './alert-catch-up.js';
import type { LumenMessage } from './messages.js';

export { CLIENT_EVENTS, type HistoryFailure, type HistoryRecovery, type LumenMessage, type TopicMessage } from './messages.js';

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

export class LumenClient {
  private readonly sub: Subscriber;
  private readonly alerts: AlertCatchUp;
  private closed = false;
  private readonly requests = new Set<Request>();
  /** Messages that were not valid protocol messages (skipped). */
  malformed = 0;

  constructor(private readonly opts: ClientOptions) {
    const topics = opts.topics ?? [TOPICS.status, TOPICS.alert, TOPICS.overlay];
    this.sub = connectSubscriber(opts.endpoint, topics, opts.receiveHighWaterMark ?? 1000, opts.curve);
    const fetch = opts.historyEndpoint ? (after: number) => this.fetch(after) : null;
    this.alerts = new AlertCatchUp(fetch, opts.catchUpAfter, opts.historyRetryMinMs ?? 500, opts.historyRetryMaxMs ?? 15_000);
  }

  /** Seq of the last alert delivered. */
  get alertSeq(): number | undefined {
    return this.alerts.seq;
  }

  /** Successful history fetches after a gap (or at connect). */
  get gapsFilled(): number {
    return this.alerts.gapsFilled;
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
    this.alerts.begin();
    // One receive is outstanding at a time; it survives a fill result winning the race.
    let recv: Promise<Buffer[]> | null = null;
    try {
      while (!this.closed) {
        recv ??= this.sub.receive();
        const task = this.alerts.task;
        const next = task ? await Promise.race([recv.then((frames) => ({ frames })), task]) : { frames: await recv };
        if ('fill' in next) {
          yield* this.alerts.filled(next.fill);
          continue;
        }
        recv = null;
        const msg = this.parse(next.frames);
        if (!msg) continue;
        if (msg.topic === TOPICS.alert) {
          yield* this.alerts.live(msg.header);
          continue;
        }
        // The status heartbeat says which alert is newest: catch up on any never received.
        if (msg.topic === TOPICS.status) this.alerts.noteNewest(msg.header.alertSeq);
        yield msg;
      }
    } catch (err) {
      if (!this.closed) throw new LumenError('PROTOCOL', `subscription failed: ${messageOf(err)}`);
    } finally {
      this.alerts.cancelRetry();
    }
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
    this.alerts.close();
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
