/**
 * `lumen view`: a small HTTP server for a bedside monitor in the browser. It subscribes to the
 * daemon with the reference client (catching up on alert history) and pushes overlays, preview
 * frames, alerts and status to each page over a WebSocket (runtime/view/view-wire.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { CLIENT_EVENTS, type HistoryFailure, type LumenMessage } from '../client/client.js';
import { LumenError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { TOPICS, type StatusHeader } from '../publish/protocol.js';
import type { CurveClient } from '../publish/zmq.js';
import { serveClip } from './clip-files.js';
import { DaemonSubscription } from './daemon-subscription.js';
import { loadStaticFiles, PUBLIC_DIR, type StaticFile } from './static-files.js';
import { ViewAuth } from './view-auth.js';
import { encodeImage, IMAGE_KIND, VIEW_WIRE_VERSION, type AlertEntry, type DaemonLink, type ForwardedMessage, type ViewMessage } from './view-wire.js';

const EMPTY = Buffer.alloc(0);

export interface ViewServerOptions {
  /** The daemon's PUB endpoint. */
  endpoint: string;
  /** The daemon's history endpoint; without it, alerts from before the viewer started are not shown. */
  historyEndpoint?: string;
  curve?: CurveClient;
  /** Address to listen on (default 127.0.0.1: this machine only). */
  host?: string;
  /**
   * Credential required from every request and WebSocket (bearer token or the cookie set from
   * `/?token=…`); at least 32 characters (view-auth.ts). Without it the viewer is open.
   */
  token?: string;
  /** HTTP port (default 8080; 0 = any free port, see `port` after start). */
  port?: number;
  /** Alerts kept for the page's list (default 50). */
  alertListSize?: number;
  /**
   * Per page: images are skipped (newest wins) while the socket has more than this many bytes
   * unsent (default 1 MiB); status and alerts are always sent.
   */
  maxBufferedBytes?: number;
  /** A page with more than this many bytes unsent is disconnected (default 16 MiB). */
  dropClientBytes?: number;
  publicDir?: string;
  /**
   * This appliance's recordings folder, when the viewer runs where the clips are: pages then link
   * each alert's clip to `/clips/<id>` (a download). Without it pages name the clip only.
   */
  recordings?: string;
  log: Logger;
}

/** Counters since start. */
export interface ViewServerStats {
  pages: number;
  overlaysIn: number;
  previewsIn: number;
  alertsIn: number;
  /** Image messages not sent to a page because it was behind. */
  imagesSkipped: number;
}

const HEARTBEAT_MS = 1000;
/** WebSocket ping to find pages that vanished without closing (laptop lid, cable). */
const PING_MS = 10_000;

export class ViewServer {
  private readonly pages = new Set<WebSocket>();
  private readonly alive = new WeakSet<WebSocket>();
  private readonly alerts: AlertEntry[] = [];
  private status: StatusHeader | null = null;
  /** The last failure to read the alert history, until a read succeeds again. */
  private history: HistoryFailure | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private closing: Promise<void> | undefined;
  private pump: Promise<void> = Promise.resolve();
  private refusals = { count: 0, loggedAt: 0 };
  readonly counters: ViewServerStats = { pages: 0, overlaysIn: 0, previewsIn: 0, alertsIn: 0, imagesSkipped: 0 };

  private constructor(
    private readonly opts: ViewServerOptions,
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly files: Map<string, StaticFile>,
    private readonly sub: DaemonSubscription,
    /** The port actually listened on. */
    readonly port: number,
    private readonly auth: ViewAuth | null,
  ) {}

  /** Loads the page, listens, and starts the subscription; resolves once HTTP is listening. */
  static async start(opts: ViewServerOptions): Promise<ViewServer> {
    const host = opts.host ?? '127.0.0.1';
    const wantPort = opts.port ?? 8080;
    const auth = opts.token === undefined ? null : new ViewAuth(opts.token);
    const files = await loadStaticFiles(opts.publicDir ?? PUBLIC_DIR);
    const http = createServer();
    // Images are already compressed (PNG/JPEG): deflate would cost CPU for nothing.
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 });
    await new Promise<void>((resolve, reject) => {
      http.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new LumenError(
            'VIEW_LISTEN',
            `cannot listen on ${host}:${wantPort}: ${err.code ?? messageOf(err)} (pick another --port or --host, or stop the other process)`,
          ),
        ),
      );
      http.listen(wantPort, host, () => resolve());
    });
    const port = (http.address() as { port: number }).port;
    const sub = new DaemonSubscription({ endpoint: opts.endpoint, historyEndpoint: opts.historyEndpoint, curve: opts.curve, log: opts.log });
    const server = new ViewServer(opts, http, wss, files, sub, port, auth);
    server.run();
    opts.log.info({ url: server.url, endpoint: opts.endpoint, history: opts.historyEndpoint ?? null, token: Boolean(auth) }, 'viewer listening');
    return server;
  }

  /** The page's address (with the listen host; 0.0.0.0 is shown as 127.0.0.1). */
  get url(): string {
    const h = this.opts.host ?? '127.0.0.1';
    const host = h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h;
    return `http://${host}:${this.port}/`;
  }

  private run(): void {
    this.http.on('request', (req, res) => this.serve(req, res));
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    this.timers.push(setInterval(() => this.broadcastText({ type: 'heartbeat', at: Date.now(), daemon: this.daemonLink() }), HEARTBEAT_MS));
    this.timers.push(setInterval(() => this.ping(), PING_MS));
    this.pump = (async () => {
      try {
        for await (const m of this.sub) this.onDaemon(m);
      } catch (err) {
        // DaemonSubscription retries by itself; reaching here is a bug, not a daemon outage.
        this.opts.log.error({ err: messageOf(err) }, 'viewer subscription ended unexpectedly');
      }
    })();
  }

  private daemonLink(): DaemonLink {
    const at = this.sub.lastMessageAt;
    return { endpoint: this.opts.endpoint, lastMessageAgeMs: at === undefined ? null : Math.round(performance.now() - at), error: this.sub.lastError };
  }

  private onDaemon(m: LumenMessage): void {
    switch (m.topic) {
      case TOPICS.overlay:
        this.counters.overlaysIn++;
        // Geometry travels in the header; a PNG payload (for v1 monitors) is not needed here.
        this.broadcastImage(encodeImage(IMAGE_KIND.overlay, m.header, EMPTY));
        break;
      case TOPICS.frame:
        this.counters.previewsIn++;
        this.broadcastImage(encodeImage(IMAGE_KIND.preview, m.header, m.payload));
        break;
      case TOPICS.status:
        this.status = m.header;
        this.broadcastText({ type: 'status', header: m.header });
        break;
      case TOPICS.alert: {
        this.counters.alertsIn++;
        const entry: AlertEntry = { header: m.header, recovered: m.recovered };
        this.alerts.push(entry);
        if (this.alerts.length > (this.opts.alertListSize ?? 50)) this.alerts.shift();
        this.broadcastText({ type: 'alert', ...entry });
        break;
      }
      // A finished recording: pages name clips from the alerts that carry them.
      case TOPICS.clip:
        break;
      // Pages say when alerts from before now may be missing, and when they are caught up again.
      case CLIENT_EVENTS.historyFailed:
        this.history = m.header;
        this.broadcastText({ type: 'history', failure: m.header });
        break;
      case CLIENT_EVENTS.historyRecovered:
        this.history = null;
        this.broadcastText({ type: 'history', failure: null });
        break;
      // Another topic pages are fed from: handed on as the daemon sent it; app.js shows what it knows.
      default: {
        const other: ForwardedMessage = m;
        this.broadcastText({ type: 'topic', topic: other.topic, header: other.header });
      }
    }
  }

  private broadcastText(msg: ViewMessage): void {
    if (this.pages.size === 0) return;
    const text = JSON.stringify(msg);
    for (const ws of this.pages) this.sendTo(ws, text, false);
  }

  private broadcastImage(data: Buffer): void {
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
      this.counters.imagesSkipped++;
      return;
    }
    ws.send(data);
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (this.auth && !this.auth.allows(req)) {
      const token = url.searchParams.get('token') ?? undefined;
      if (this.auth.matches(token)) {
        // The link with the token, opened once: keep it as a cookie, and take it out of the address bar.
        url.searchParams.delete('token');
        res
          .writeHead(303, {
            location: `${path}${url.search}`,
            'set-cookie': this.auth.cookie(token!),
            'cache-control': 'no-store',
            'referrer-policy': 'no-referrer',
          })
          .end();
        return;
      }
      this.refused(req, path);
      res
        .writeHead(401, { 'www-authenticate': 'Bearer realm="lumen-view"', 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
        .end(
          req.method === 'HEAD' ? undefined : 'Lumen viewer: a token is required. Open the link printed by `lumen view` (…/?token=…) once on this monitor.\n',
        );
      return;
    }
    if (path === '/healthz') {
      const body = JSON.stringify({ ok: true, daemon: this.daemonLink(), ...this.counters, pages: this.pages.size });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (path.startsWith('/clips/') && this.opts.recordings) {
      void serveClip(this.opts.recordings, path.slice('/clips/'.length), req, res);
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204).end(); // browsers ask for it; an empty answer keeps their console clean
      return;
    }
    const f = this.files.get(path);
    if (!f) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'content-type': f.type,
      'content-length': f.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      // Everything the page needs comes from here: no CDN, no inline script.
      'content-security-policy': "default-src 'self'; img-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    });
    res.end(req.method === 'HEAD' ? undefined : f.body);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    // A page from another site must not read the stream through this browser (cross-site WebSocket).
    const origin = req.headers.origin;
    const sameOrigin = origin === undefined || hostOf(origin) === req.headers.host;
    if (path === '/ws' && this.auth && !this.auth.allows(req)) {
      this.refused(req, path);
      socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\n\r\n');
      return;
    }
    if (path !== '/ws' || !sameOrigin || this.closing) {
      socket.end(`HTTP/1.1 ${path !== '/ws' ? '404 Not Found' : '403 Forbidden'}\r\nconnection: close\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  /** Refusals are logged once per 10 s with a count: a network scanner must not flood the log. */
  private refused(req: IncomingMessage, path: string): void {
    this.refusals.count++;
    const now = Date.now();
    if (now - this.refusals.loggedAt < 10_000) return;
    this.opts.log.warn({ path, from: req.socket.remoteAddress, refused: this.refusals.count }, 'viewer request refused: no valid token');
    this.refusals = { count: 0, loggedAt: now };
  }

  private accept(ws: WebSocket): void {
    this.pages.add(ws);
    this.alive.add(ws);
    this.counters.pages++;
    ws.on('pong', () => this.alive.add(ws));
    ws.on('close', () => this.pages.delete(ws));
    ws.on('error', () => ws.terminate());
    ws.on('message', () => undefined); // the page has nothing to say; ignore whatever it sends
    const hello: ViewMessage = {
      type: 'hello',
      v: VIEW_WIRE_VERSION,
      alerts: [...this.alerts],
      status: this.status,
      daemon: this.daemonLink(),
      history: this.history,
      clips: Boolean(this.opts.recordings),
    };
    ws.send(JSON.stringify(hello));
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

  /** Counters since start, with the number of pages connected now. */
  stats(): ViewServerStats & { connected: number } {
    return { ...this.counters, connected: this.pages.size };
  }

  /**
   * Stops the subscription, disconnects every page (within about a second) and stops listening.
   * Resolves when the subscription has ended: up to the history timeout (3 s) later if a
   * catch-up request is in flight. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const t of this.timers) clearInterval(t);
      this.sub.close();
      // wss.close() resolves once every page has gone: ask politely, then cut the stragglers.
      const pagesGone = new Promise<void>((resolve) => this.wss.close(() => resolve()));
      for (const ws of this.pages) ws.close(1001, 'viewer stopping');
      const cut = setTimeout(() => {
        for (const ws of this.wss.clients) ws.terminate();
      }, 1000);
      await pagesGone;
      clearTimeout(cut);
      this.http.closeAllConnections();
      await new Promise<void>((resolve) => this.http.close(() => resolve()));
      // Ends within the history timeout when a catch-up request is in flight.
      await this.pump;
    })();
    return this.closing;
  }
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    // Not a URL: matches no host, so the upgrade is refused as cross-site.
    return undefined;
  }
}
