import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { LumenError, messageOf } from '../errors.js';
import type { AlertJournal } from './journal.js';
import {
  PROTOCOL_VERSION,
  TOPIC_TABLE,
  type AlertHeader,
  type ClipInfo,
  type FrameHeader,
  type HistoryReply,
  type OverlayHeader,
  type StatusFields,
  type StatusHeader,
  type TopicHeaders,
  type TopicKey,
} from './protocol.js';
import { isLocalEndpoint } from './exposure.js';
import { z85Encode } from './z85.js';
import type { PublisherHealth } from './health.js';
import { SupervisedSocket } from './supervised-socket.js';
import { SendQueue } from './send-queue.js';
import { HistoryServer, type ClipDirectory } from './history-server.js';
import { bindHistory, bindPublisher, bindZap, serveZap, type Publisher as ZPub, type Reply, type Router } from './zmq.js';

/** Which CURVE client keys may connect; swapped at run time (runtime/publish/allow-list.ts). */
export interface ClientGate {
  /** Asked at each handshake; logs its own refusals. */
  admit(clientKeyZ85: string): boolean;
  /** `fn` runs when keys that were admitted no longer are: their connections must go. */
  onRevoke(fn: () => void): void;
  /** Keys admitted now. */
  readonly size: number;
  close(): void;
}

export interface PublisherOptions {
  endpoint: string;
  historyEndpoint: string;
  sendHighWaterMark: number;
  /** CURVE: the daemon's secret key and the gate holding the monitors' public keys (Z85). */
  curve?: { secretKey: string; clients: ClientGate };
  /** publish.insecure: network-reachable without CURVE on purpose; reported in every status. */
  insecure?: boolean;
}

export type { ClipDirectory } from './history-server.js';

/**
 * The daemon's ZeroMQ side: a PUB socket for status, overlays and alerts, and a history endpoint
 * answering alert-history requests from the journal. Sends are serialised (one at a time). Each
 * socket is supervised: a failure is logged, the socket re-created, and `health()` reports it.
 */
export class LumenPublisher {
  readonly bootId = randomUUID();
  private readonly seq = new Map<TopicKey, number>();
  private closed = false;
  private readonly queue: SendQueue;

  private constructor(
    private readonly pub: SupervisedSocket<ZPub>,
    private readonly history: SupervisedSocket<Router>,
    private readonly server: HistoryServer,
    private readonly zap: SupervisedSocket<Reply> | undefined,
    private readonly journal: AlertJournal,
    private readonly log: Logger,
    private readonly opts: PublisherOptions,
  ) {
    this.queue = new SendQueue(pub, log);
  }

  /** Overlays not sent because the socket was still busy with earlier ones. */
  get droppedOverlays(): number {
    return this.queue.dropped;
  }

  static async open(opts: PublisherOptions, journal: AlertJournal, log: Logger): Promise<LumenPublisher> {
    let pub: SupervisedSocket<ZPub> | undefined;
    let zap: SupervisedSocket<Reply> | undefined;
    const curve = opts.curve ? { secretKey: opts.curve.secretKey } : undefined;
    const server = new HistoryServer(journal);
    try {
      if (opts.curve) {
        // Asked afresh at every handshake: the allow-list can change while the daemon runs.
        const clients = opts.curve.clients;
        zap = await SupervisedSocket.open({ name: 'zap', open: bindZap, serve: (s) => serveZap(s, (key) => clients.admit(key), z85Encode) }, log);
      }
      pub = await SupervisedSocket.open({ name: 'pub', open: () => bindPublisher(opts.endpoint, opts.sendHighWaterMark, curve) }, log);
      const history = await SupervisedSocket.open(
        {
          name: 'history',
          open: () => bindHistory(opts.historyEndpoint, curve),
          serve: (s) => server.serve(s),
        },
        log,
      );
      const p = new LumenPublisher(pub, history, server, zap, journal, log, opts);
      opts.curve?.clients.onRevoke(() => p.dropConnections());
      log.info({ endpoint: opts.endpoint, history: opts.historyEndpoint, curve: Boolean(opts.curve) }, 'publishing');
      return p;
    } catch (err) {
      await pub?.close();
      await zap?.close();
      opts.curve?.clients.close();
      throw new LumenError('PUBLISH_BIND', `cannot bind ${opts.endpoint} / ${opts.historyEndpoint}: ${messageOf(err)}`);
    }
  }

  /** How each socket is doing, for lumen.status (`publisher`). */
  health(): PublisherHealth {
    return {
      pub: { ...this.pub.health(), droppedOverlays: this.droppedOverlays },
      history: { ...this.history.health(), served: this.server.served, refused: this.server.refused, ignored: this.server.ignored },
      ...(this.zap ? { zap: this.zap.health() } : {}),
    };
  }

  /** Recordings, for the `clip` history op; unset: every id is unknown. */
  get clips(): ClipDirectory | null {
    return this.server.clips;
  }

  set clips(d: ClipDirectory | null) {
    this.server.clips = d;
  }

  /** Any malformed history request gets an error reply naming what is wrong; nothing throws. */
  answer(msg: Buffer[]): HistoryReply {
    return this.server.answer(msg);
  }

  private nextSeq(topic: TopicKey): number {
    const n = (this.seq.get(topic) ?? 0) + 1;
    this.seq.set(topic, n);
    return n;
  }

  /**
   * Publishes on a topic: `v`, the topic's next `seq` and `bootId` come first, then `fields` in
   * their order. Sent or dropped as the topic table says. (Alerts go through alert(): their seq
   * is the journal's.)
   */
  publish<K extends Exclude<TopicKey, 'alert'>>(topic: K, fields: Omit<TopicHeaders[K], 'v' | 'seq' | 'bootId'>, payload: Buffer | null = null): Promise<void> {
    return this.sendOn(topic, { v: PROTOCOL_VERSION, seq: this.nextSeq(topic), bootId: this.bootId, ...fields }, payload);
  }

  private sendOn(topic: TopicKey, header: object, payload: Buffer | null): Promise<void> {
    const spec = TOPIC_TABLE[topic];
    return this.queue.send(payload ? [spec.name, JSON.stringify(header), payload] : [spec.name, JSON.stringify(header)], spec.droppable);
  }

  /**
   * A monitor was removed from the allow-list: every connection is dropped (both sockets are
   * renewed) and the listed monitors reconnect; the removed one is refused at its handshake.
   */
  private dropConnections(): void {
    if (this.closed) return;
    this.pub.renew('a monitor was removed from the allow-list');
    this.history.renew('a monitor was removed from the allow-list');
    this.log.info(
      { endpoint: this.opts.endpoint, history: this.opts.historyEndpoint },
      'connections dropped after a monitor was removed; listed monitors reconnect',
    );
  }

  /** How the sockets are protected, in every status: a site sees an insecure set-up on each monitor. */
  private security(): StatusHeader['security'] {
    const c = this.opts.curve;
    const exposed = [this.opts.endpoint, this.opts.historyEndpoint].some((e) => !isLocalEndpoint(e));
    return { curve: Boolean(c), insecure: Boolean(this.opts.insecure) && !c, exposed, monitors: c ? c.clients.size : null };
  }

  /** Status also carries the journal's last alert seq, so a subscriber notices a lost alert. */
  status(h: StatusFields): Promise<void> {
    return this.publish('status', { alertSeq: this.journal.seq, ...h, security: this.security() });
  }

  /** An overlay as geometry; with a rendered PNG as payload when the site enabled one. */
  overlay(h: Omit<OverlayHeader, 'v' | 'seq' | 'bootId' | 'format'>, png: Buffer | null): Promise<void> {
    return this.publish('overlay', { format: png ? 'png' : 'geometry', ...h }, png);
  }

  /** Composited preview (JPEG); droppable like overlays. */
  frame(h: Omit<FrameHeader, 'v' | 'seq' | 'bootId' | 'format'>, jpeg: Buffer): Promise<void> {
    return this.publish('frame', { format: 'jpeg', ...h }, jpeg);
  }

  /** Journals the alert (fsync) and then publishes it; resolves with its seq. */
  async alert(h: Omit<AlertHeader, 'v' | 'seq' | 'bootId'>): Promise<AlertHeader> {
    const stored = await this.journal.append({ v: PROTOCOL_VERSION, bootId: this.bootId, ...h });
    await this.sendOn('alert', stored, null);
    return stored;
  }

  /** A recording was finished: its record on lumen.clip (not journalled; the `clip` op has it too). */
  clip(info: ClipInfo): Promise<void> {
    return this.publish('clip', { frameId: info.lastFrame ?? -1, ts: Date.now(), clip: info });
  }

  /** Flushes queued sends and closes both sockets. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue.close(500);
    this.closed = true;
    await Promise.all([this.history.close(), this.pub.close(), this.zap?.close()]);
    this.opts.curve?.clients.close();
  }
}
