import { LumenClient, type LumenMessage } from '../client/client.js';
import { isLumenError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { TOPIC_TABLE, TOPICS } from '../publish/protocol.js';
import type { CurveClient } from '../publish/zmq.js';

export interface DaemonSubscriptionOptions {
  endpoint: string;
  historyEndpoint?: string;
  curve?: CurveClient;
  /** Wait before a new attempt after the subscription failed, ms (default 1000). */
  retryMs?: number;
  /** History request timeout, ms (default 3000). */
  historyTimeoutMs?: number;
  log: Logger;
}

/** The topics pages are fed from (TOPIC_TABLE's `view`). */
const VIEW_TOPICS = Object.values(TOPIC_TABLE)
  .filter((spec) => spec.view)
  .map((spec) => spec.name);

/**
 * A LumenClient that does not give up: the viewer runs for days beside a daemon that restarts.
 * ZeroMQ itself reconnects the subscription when the daemon comes back; what can fail is the
 * history catch-up at connect (no daemon yet), which ends the client's iteration. Then a new
 * client is made after `retryMs`, catching up from the last alert already delivered, so no
 * alert is delivered twice or lost. Iterating ends cleanly on close().
 */
export class DaemonSubscription implements AsyncIterable<LumenMessage> {
  private client: LumenClient | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  private lastAlertSeq = 0;
  /** Why the last attempt failed; null while subscribed. */
  lastError: string | null = null;
  /** performance.now() of the last message from the daemon; undefined before the first. */
  lastMessageAt: number | undefined;

  constructor(private readonly opts: DaemonSubscriptionOptions) {}

  async *[Symbol.asyncIterator](): AsyncIterator<LumenMessage> {
    const o = this.opts;
    while (!this.closed) {
      const client = new LumenClient({
        endpoint: o.endpoint,
        historyEndpoint: o.historyEndpoint,
        topics: VIEW_TOPICS,
        catchUpAfter: o.historyEndpoint ? this.lastAlertSeq : undefined,
        historyTimeoutMs: o.historyTimeoutMs ?? 3000,
        // Overlays are large and only the newest matters: a short receive queue keeps memory small.
        receiveHighWaterMark: 100,
        curve: o.curve,
      });
      this.client = client;
      try {
        for await (const m of client) {
          this.lastError = null;
          this.lastMessageAt = performance.now();
          if (m.topic === TOPICS.alert) this.lastAlertSeq = Math.max(this.lastAlertSeq, m.header.seq);
          yield m;
        }
      } catch (err) {
        if (!this.closed) {
          // The client's own errors name what failed; a bare ZeroMQ error here is the catch-up request.
          const reason = isLumenError(err) ? err.message : `history catch-up from ${o.historyEndpoint} failed: ${messageOf(err)}`;
          if (reason !== this.lastError) o.log.warn({ endpoint: o.endpoint, err: reason }, 'daemon subscription failed; retrying');
          this.lastError = reason;
        }
      } finally {
        client.close();
      }
      if (!this.closed)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, o.retryMs ?? 1000);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
    }
  }

  /** Ends the iteration (the current client is closed). Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client?.close();
    this.wake?.();
  }
}
