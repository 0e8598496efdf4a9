import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../log.js';
import type { ViewMessage } from './view-wire.js';

/** WebSocket ping to find pages that vanished without closing (laptop lid, cable). */
const PING_MS = 10_000;

export interface PageHubOptions {
  /** Per page: images are skipped (newest wins) while more than this many bytes are unsent. */
  maxBufferedBytes?: number;
  /** A page with more than this many bytes unsent is disconnected. */
  dropClientBytes?: number;
  log: Logger;
  /** The first message each page gets: what it needs to draw before the next update. */
  hello(): ViewMessage;
  /** Counts a page accepted. */
  onPage(): void;
  /** Counts an image not sent to a page because it was behind. */
  onSkip(): void;
}

/**
 * The pages connected over /ws: each gets status and alerts always, images only while it keeps
 * up, and is cut when it falls far behind or stops answering pings.
 */
export class PageHub {
  private readonly pages = new Set<WebSocket>();
  private readonly alive = new WeakSet<WebSocket>();
  // Images are already compressed (PNG/JPEG): deflate would cost CPU for nothing.
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 });
  private readonly pinger: NodeJS.Timeout;

  constructor(private readonly opts: PageHubOptions) {
    this.pinger = setInterval(() => this.ping(), PING_MS);
  }

  /** Pages connected now. */
  get size(): number {
    return this.pages.size;
  }

  /** Takes over an HTTP upgrade already checked (path, origin, token). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  broadcastText(msg: ViewMessage): void {
    if (this.pages.size === 0) return;
    const text = JSON.stringify(msg);
    for (const ws of this.pages) this.sendTo(ws, text, false);
  }

  broadcastImage(data: Buffer): void {
    for (const ws of this.pages) this.sendTo(ws, data, true);
  }

  private sendTo(ws: WebSocket, data: string | Buffer, skippable: boolean): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > (this.opts.dropClientBytes ?? 16 * 1024 * 1024)) {
      this.opts.log.warn({ buffered: ws.bufferedAmount }, 'page too far behind; disconnecting it');
      ws.terminate();
      return;
    }
    if (skippable && ws.bufferedAmount > (this.opts.maxBufferedBytes ?? 1024 * 1024)) {
      this.opts.onSkip();
      return;
    }
    ws.send(data);
  }

  private accept(ws: WebSocket): void {
    this.pages.add(ws);
    this.alive.add(ws);
    this.opts.onPage();
    ws.on('pong', () => this.alive.add(ws));
    ws.on('close', () => this.pages.delete(ws));
    ws.on('error', () => ws.terminate());
    ws.on('message', () => undefined); // the page has nothing to say; ignore whatever it sends
    ws.send(JSON.stringify(this.opts.hello()));
  }

  private ping(): void {
    for (const ws of this.pages) {
      if (!this.alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }

  /** Disconnects every page: asks politely, cuts the stragglers after a second. */
  async close(): Promise<void> {
    clearInterval(this.pinger);
    // wss.close() resolves once every page has gone.
    const pagesGone = new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const ws of this.pages) ws.close(1001, 'viewer stopping');
    const cut = setTimeout(() => {
      for (const ws of this.wss.clients) ws.terminate();
    }, 1000);
    await pagesGone;
    clearTimeout(cut);
  }
}
