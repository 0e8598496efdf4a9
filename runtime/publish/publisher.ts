import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { LumenError, messageOf } from '../errors.js';
import type { AlertJournal } from './journal.js';
import { HISTORY_MAX_LIMIT, PROTOCOL_VERSION, TOPICS, type AlertHeader, type FrameHeader, type HistoryReply, type HistoryRequest, type OverlayHeader, type StatusHeader } from './protocol.js';
import { isLocalEndpoint } from './exposure.js';
import { z85Encode } from './z85.js';
import { bindPublisher, bindReply, boundEndpoint, rebind, reopenReply, startZapHandler, type Frames, type Publisher as ZPub, type Reply } from './zmq.js';

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

/** Overlays waiting for the socket beyond this are dropped (newest kept); alerts never are. */
const MAX_PENDING_DROPPABLE = 4;

/**
 * The daemon's ZeroMQ side: a PUB socket for status, overlays and alerts, and a REP socket
 * answering alert-history requests from the journal. Sends are serialised (one at a time).
 */
export class LumenPublisher {
  readonly bootId = randomUUID();
  private readonly seq = new Map<string, number>();
  private tail: Promise<void> = Promise.resolve();
  private pendingDroppable = 0;
  private closed = false;
  /** Overlays not sent because the socket was still busy with earlier ones. */
  droppedOverlays = 0;

  private constructor(
    private readonly pub: ZPub,
    private rep: Reply,
    private readonly journal: AlertJournal,
    private readonly log: Logger,
    private readonly stopZap: (() => void) | undefined,
    private readonly opts: PublisherOptions,
    private readonly bound: { pub: string; rep: string },
  ) {}

  static async open(opts: PublisherOptions, journal: AlertJournal, log: Logger): Promise<LumenPublisher> {
    let pub: ZPub | undefined;
    let stopZap: (() => void) | undefined;
    try {
      const curve = opts.curve ? { secretKey: opts.curve.secretKey } : undefined;
      if (opts.curve) {
        const clients = opts.curve.clients;
        stopZap = await startZapHandler((key) => clients.admit(key), z85Encode);
      }
      pub = await bindPublisher(opts.endpoint, opts.sendHighWaterMark, curve);
      const rep = await bindReply(opts.historyEndpoint, curve);
      const p = new LumenPublisher(pub, rep, journal, log, stopZap, opts, { pub: boundEndpoint(pub, opts.endpoint), rep: boundEndpoint(rep, opts.historyEndpoint) });
      opts.curve?.clients.onRevoke(() => void p.dropConnections());
      void p.serveHistory();
      log.info({ endpoint: opts.endpoint, history: opts.historyEndpoint, curve: Boolean(opts.curve) }, 'publishing');
      return p;
    } catch (err) {
      pub?.close();
      stopZap?.();
      opts.curve?.clients.close();
      throw new LumenError('PUBLISH_BIND', `cannot bind ${opts.endpoint} / ${opts.historyEndpoint}: ${messageOf(err)}`);
    }
  }

  private nextSeq(topic: string): number {
    const n = (this.seq.get(topic) ?? 0) + 1;
    this.seq.set(topic, n);
    return n;
  }

  private send(frames: Frames, droppable: boolean): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (droppable) {
      if (this.pendingDroppable >= MAX_PENDING_DROPPABLE) {
        this.droppedOverlays++;
        return Promise.resolve();
      }
      this.pendingDroppable++;
    }
    const done = this.tail.then(async () => {
      try {
        if (!this.closed) await this.pub.send(frames);
      } catch (err) {
        this.log.warn({ err: messageOf(err) }, 'publish failed');
      } finally {
        if (droppable) this.pendingDroppable--;
      }
    });
    this.tail = done;
    return done;
  }

  /**
   * Every connection is dropped and the sockets bound again, between two sends: monitors still
   * listed reconnect within a second (an alert missed meanwhile comes back from history), a
   * revoked key is refused at its next handshake.
   */
  private dropConnections(): Promise<void> {
    const done = this.tail.then(async () => {
      if (this.closed) return;
      try {
        await rebind(this.pub, this.bound.pub);
        // REP is replaced, not rebound: its loop may be mid-request, and an unbind would make that
        // reply fail (EBUSY) and end the loop. Closing ends the old loop cleanly.
        this.rep = await reopenReply(this.rep, this.bound.rep, { secretKey: this.opts.curve!.secretKey });
        void this.serveHistory();
        this.log.info({ endpoint: this.bound.pub, history: this.bound.rep }, 'connections dropped after a monitor was removed; listed monitors reconnect');
      } catch (err) {
        this.log.error({ err: messageOf(err) }, 'could not drop connections after a monitor was removed');
      }
    });
    this.tail = done;
    return done;
  }

  /** How the sockets are protected, in every status: a site sees an insecure set-up on each monitor. */
  private security(): Record<string, unknown> {
    const c = this.opts.curve;
    const exposed = [this.opts.endpoint, this.opts.historyEndpoint].some((e) => !isLocalEndpoint(e));
    return { curve: Boolean(c), insecure: Boolean(this.opts.insecure) && !c, exposed, monitors: c ? c.clients.size : null };
  }

  /** Status also carries the journal's last alert seq, so a subscriber notices a lost alert. */
  status(h: Omit<StatusHeader, 'v' | 'seq' | 'bootId' | 'alertSeq'>): Promise<void> {
    const header = { v: PROTOCOL_VERSION, seq: this.nextSeq(TOPICS.status), bootId: this.bootId, alertSeq: this.journal.seq, ...h } as StatusHeader;
    header.security = this.security();
    return this.send([TOPICS.status, JSON.stringify(header)], false);
  }

  /** An overlay as geometry; with a rendered PNG as payload when the site enabled one. */
  overlay(h: Omit<OverlayHeader, 'v' | 'seq' | 'bootId' | 'format'>, png: Buffer | null): Promise<void> {
    const header: OverlayHeader = { v: PROTOCOL_VERSION, seq: this.nextSeq(TOPICS.overlay), bootId: this.bootId, format: png ? 'png' : 'geometry', ...h };
    return this.send(png ? [TOPICS.overlay, JSON.stringify(header), png] : [TOPICS.overlay, JSON.stringify(header)], true);
  }

  /** Composited preview (JPEG); droppable like overlays. */
  frame(h: Omit<FrameHeader, 'v' | 'seq' | 'bootId' | 'format'>, jpeg: Buffer): Promise<void> {
    const header: FrameHeader = { v: PROTOCOL_VERSION, seq: this.nextSeq(TOPICS.frame), bootId: this.bootId, format: 'jpeg', ...h };
    return this.send([TOPICS.frame, JSON.stringify(header), jpeg], true);
  }

  /** Journals the alert (fsync) and then publishes it; resolves with its seq. */
  async alert(h: Omit<AlertHeader, 'v' | 'seq' | 'bootId'>): Promise<AlertHeader> {
    const stored = await this.journal.append({ v: PROTOCOL_VERSION, bootId: this.bootId, ...h });
    await this.send([TOPICS.alert, JSON.stringify(stored)], false);
    return stored;
  }

  private async serveHistory(): Promise<void> {
    const rep = this.rep;
    try {
      for await (const msg of rep) {
        await rep.send(JSON.stringify(this.answer(msg)));
      }
    } catch (err) {
      if (!this.closed && !rep.closed) this.log.error({ err: messageOf(err) }, 'history socket stopped');
    }
  }

  /** Any malformed request gets an error reply naming what is wrong; nothing throws. */
  answer(msg: Buffer[]): HistoryReply {
    const fail = (message: string): HistoryReply => ({ v: PROTOCOL_VERSION, ok: false, error: { code: 'PROTOCOL', message } });
    if (msg.length !== 1) return fail(`expected one frame, got ${msg.length}`);
    let req: Partial<HistoryRequest>;
    try {
      req = JSON.parse(msg[0].toString('utf8'));
    } catch {
      return fail('request is not JSON');
    }
    if (!req || typeof req !== 'object' || Array.isArray(req)) return fail('request must be a JSON object');
    if (req.v !== PROTOCOL_VERSION) return fail(`field v: expected ${PROTOCOL_VERSION}`);
    if (req.op !== 'since') return fail('field op: expected "since"');
    if (!Number.isInteger(req.after) || (req.after as number) < 0) return fail('field after: expected a non-negative integer');
    const limit = req.limit ?? HISTORY_MAX_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > HISTORY_MAX_LIMIT) return fail(`field limit: expected 1…${HISTORY_MAX_LIMIT}`);
    const { events, more } = this.journal.since(req.after as number, limit);
    return { v: PROTOCOL_VERSION, ok: true, events, more, lastSeq: this.journal.seq };
  }

  /** Flushes queued sends and closes both sockets. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.race([this.tail, new Promise((r) => setTimeout(r, 500))]);
    this.closed = true;
    this.rep.close();
    this.pub.close();
    this.stopZap?.();
    this.opts.curve?.clients.close();
  }
}
