/**
 * The reference client of the Lumen wire protocol (docs/protocol.md), for bedside monitors and
 * tests. It subscribes to the daemon's PUB socket and, for alerts, guarantees each event once
 * and in order: a gap in alert `seq` (slow subscriber, restart, late join) is filled from the
 * history endpoint before the newer alert is delivered.
 */
import { LumenError, messageOf } from '../errors.js';
import { HISTORY_MAX_LIMIT, PROTOCOL_VERSION, TOPICS, type AlertHeader, type FrameHeader, type HistoryReply, type OverlayHeader, type StatusHeader } from '../publish/protocol.js';
import { connectRequest, connectSubscriber, type CurveClient, type Subscriber } from '../publish/zmq.js';

export type LumenMessage =
  | { topic: typeof TOPICS.status; header: StatusHeader }
  /** payload: the rendered PNG when header.format is 'png', else null (draw header.geometry). */
  | { topic: typeof TOPICS.overlay; header: OverlayHeader; payload: Buffer | null }
  | { topic: typeof TOPICS.frame; header: FrameHeader; payload: Buffer }
  | { topic: typeof TOPICS.alert; header: AlertHeader; /** Fetched from history, not received live. */ recovered: boolean };

export interface ClientOptions {
  endpoint: string;
  /** History endpoint; without it gaps are reported but not filled. */
  historyEndpoint?: string;
  /** Topic names to receive (default: status, alert, overlay). */
  topics?: readonly string[];
  /** Fetch every alert after this seq at connect (0 = all the daemon remembers). */
  catchUpAfter?: number;
  historyTimeoutMs?: number;
  receiveHighWaterMark?: number;
  curve?: CurveClient;
}

export class LumenClient {
  private readonly sub: Subscriber;
  private lastAlertSeq: number | undefined;
  private closed = false;
  /** Messages that were not valid protocol messages (skipped). */
  malformed = 0;
  /** Alerts that arrived live after a gap and were preceded by recovered ones. */
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
    if (!this.opts.historyEndpoint) throw new LumenError('USAGE', 'no history endpoint configured');
    const out: AlertHeader[] = [];
    let cursor = after;
    for (;;) {
      const req = connectRequest(this.opts.historyEndpoint, this.opts.historyTimeoutMs ?? 3000, this.opts.curve);
      try {
        await req.send(JSON.stringify({ v: PROTOCOL_VERSION, op: 'since', after: cursor, limit: HISTORY_MAX_LIMIT }));
        const [raw] = await req.receive();
        const reply = JSON.parse(raw.toString('utf8')) as HistoryReply;
        if (!reply.ok) throw new LumenError('PROTOCOL', `history request refused: ${reply.error.message}`);
        out.push(...reply.events);
        if (!reply.more || reply.events.length === 0) return out;
        cursor = reply.events[reply.events.length - 1].seq;
      } finally {
        req.close();
      }
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LumenMessage> {
    if (this.lastAlertSeq !== undefined && this.opts.historyEndpoint) {
      // A daemon not up yet is no reason to fail: the first status heartbeat repeats the catch-up.
      for (const h of await this.history(this.lastAlertSeq).catch(() => [] as AlertHeader[])) yield* this.deliver(h, true);
    }
    try {
      for await (const frames of this.sub) {
        const msg = this.parse(frames);
        if (!msg) continue;
        if (msg.topic === TOPICS.status) {
          // The status heartbeat says which alert is newest: catch up on any we never received.
          const newest = msg.header.alertSeq;
          if (this.lastAlertSeq !== undefined && newest > this.lastAlertSeq && this.opts.historyEndpoint) {
            yield* this.fill(newest + 1);
          }
        }
        if (msg.topic !== TOPICS.alert) {
          yield msg;
          continue;
        }
        const h = msg.header;
        if (this.lastAlertSeq !== undefined && h.seq > this.lastAlertSeq + 1 && this.opts.historyEndpoint) yield* this.fill(h.seq);
        yield* this.deliver(h, false);
      }
    } catch (err) {
      if (!this.closed) throw new LumenError('PROTOCOL', `subscription failed: ${messageOf(err)}`);
    }
  }

  /** Delivers alerts from history after the last delivered one and before `beforeSeq`. */
  private async *fill(beforeSeq: number): AsyncGenerator<LumenMessage> {
    const missed = await this.history(this.lastAlertSeq ?? 0).catch(() => [] as AlertHeader[]);
    for (const m of missed.filter((m) => m.seq < beforeSeq)) yield* this.deliver(m, true);
    this.gapsFilled++;
  }

  private *deliver(h: AlertHeader, recovered: boolean): Generator<LumenMessage> {
    if (this.lastAlertSeq !== undefined && h.seq <= this.lastAlertSeq) return; // already delivered
    this.lastAlertSeq = h.seq;
    yield { topic: TOPICS.alert, header: h, recovered };
  }

  private parse(frames: Buffer[]): LumenMessage | null {
    try {
      const topic = frames[0].toString('utf8');
      const header = JSON.parse(frames[1].toString('utf8'));
      if (header.v !== PROTOCOL_VERSION || !Number.isInteger(header.seq)) throw new Error('bad header');
      if (topic === TOPICS.overlay) {
        if (!header.geometry || typeof header.geometry !== 'object') throw new Error('overlay without geometry');
        if (header.format === 'png' && !frames[2]) throw new Error('png overlay without payload');
        return { topic, header, payload: header.format === 'png' ? frames[2] : null };
      }
      if (topic === TOPICS.frame) {
        if (!frames[2]) throw new Error(`${topic} without payload`);
        return { topic, header, payload: frames[2] };
      }
      if (topic === TOPICS.status || topic === TOPICS.alert) return { topic, header, recovered: false } as LumenMessage;
      throw new Error(`unknown topic ${topic}`);
    } catch {
      this.malformed++;
      return null;
    }
  }

  /** Ends the iteration. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sub.close();
  }
}
