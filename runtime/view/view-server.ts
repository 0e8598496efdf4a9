/**
 * `lumen view`: a small HTTP server for a bedside monitor in the browser. It subscribes to the
 * daemon with the reference client (catching up on alert history) and pushes overlays, preview
 * frames, alerts and status to each page over a WebSocket (runtime/view/view-wire.ts).
 */
import { createServer, type Server } from 'node:http';
import { CLIENT_EVENTS, type HistoryFailure, type LumenMessage } from '../client/client.js';
import { LumenError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { TOPICS, type StatusHeader } from '../publish/protocol.js';
import type { CurveClient } from '../publish/zmq.js';
import { DaemonSubscription } from './daemon-subscription.js';
import { PageHub } from './page-hub.js';
import { loadStaticFiles, PUBLIC_DIR } from './static-files.js';
import { ViewAuth } from './view-auth.js';
import { ViewHttp } from './view-http.js';
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

/** Composes the daemon subscription, the HTTP side (view-http.ts) and the pages (page-hub.ts). */
export class ViewServer {
  private readonly alerts: AlertEntry[] = [];
  private status: StatusHeader | null = null;
  /** The last failure to read the alert history, until a read succeeds again. */
  private history: HistoryFailure | null = null;
  private heartbeat: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private pump: Promise<void> = Promise.resolve();
  private readonly hub: PageHub;
  readonly counters: ViewServerStats = { pages: 0, overlaysIn: 0, previewsIn: 0, alertsIn: 0, imagesSkipped: 0 };

  private constructor(
    private readonly opts: ViewServerOptions,
    private readonly http: Server,
    private readonly sub: DaemonSubscription,
    /** The port actually listened on. */
    readonly port: number,
  ) {
    this.hub = new PageHub({
      maxBufferedBytes: opts.maxBufferedBytes,
      dropClientBytes: opts.dropClientBytes,
      log: opts.log,
      hello: () => this.hello(),
      onPage: () => this.counters.pages++,
      onSkip: () => this.counters.imagesSkipped++,
    });
  }

  /** Loads the page, listens, and starts the subscription; resolves once HTTP is listening. */
  static async start(opts: ViewServerOptions): Promise<ViewServer> {
    const host = opts.host ?? '127.0.0.1';
    const wantPort = opts.port ?? 8080;
    const auth = opts.token === undefined ? null : new ViewAuth(opts.token);
    const files = await loadStaticFiles(opts.publicDir ?? PUBLIC_DIR);
    const http = createServer();
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
    const server = new ViewServer(opts, http, sub, port);
    server.run(
      new ViewHttp({
        auth,
        files,
        recordings: opts.recordings,
        log: opts.log,
        health: () => ({ ok: true, daemon: server.daemonLink(), ...server.counters, pages: server.hub.size }),
        accepting: () => !server.closing,
        upgrade: (req, socket, head) => server.hub.upgrade(req, socket, head),
      }),
    );
    opts.log.info({ url: server.url, endpoint: opts.endpoint, history: opts.historyEndpoint ?? null, token: Boolean(auth) }, 'viewer listening');
    return server;
  }

  /** The page's address (with the listen host; 0.0.0.0 is shown as 127.0.0.1). */
  get url(): string {
    const h = this.opts.host ?? '127.0.0.1';
    const host = h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h;
    return `http://${host}:${this.port}/`;
  }

  private run(web: ViewHttp): void {
    this.http.on('request', (req, res) => web.serve(req, res));
    this.http.on('upgrade', (req, socket, head) => web.upgrade(req, socket, head));
    this.heartbeat = setInterval(() => this.hub.broadcastText({ type: 'heartbeat', at: Date.now(), daemon: this.daemonLink() }), HEARTBEAT_MS);
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
        this.hub.broadcastImage(encodeImage(IMAGE_KIND.overlay, m.header, EMPTY));
        break;
      case TOPICS.frame:
        this.counters.previewsIn++;
        this.hub.broadcastImage(encodeImage(IMAGE_KIND.preview, m.header, m.payload));
        break;
      case TOPICS.status:
        this.status = m.header;
        this.hub.broadcastText({ type: 'status', header: m.header });
        break;
      case TOPICS.alert: {
        this.counters.alertsIn++;
        const entry: AlertEntry = { header: m.header, recovered: m.recovered };
        this.alerts.push(entry);
        if (this.alerts.length > (this.opts.alertListSize ?? 50)) this.alerts.shift();
        this.hub.broadcastText({ type: 'alert', ...entry });
        break;
      }
      // A finished recording: pages name clips from the alerts that carry them.
      case TOPICS.clip:
        break;
      // Pages say when alerts from before now may be missing, and when they are caught up again.
      case CLIENT_EVENTS.historyFailed:
        this.history = m.header;
        this.hub.broadcastText({ type: 'history', failure: m.header });
        break;
      case CLIENT_EVENTS.historyRecovered:
        this.history = null;
        this.hub.broadcastText({ type: 'history', failure: null });
        break;
      // Another topic pages are fed from: handed on as the daemon sent it; the page shows what it knows.
      default: {
        const other: ForwardedMessage = m;
        this.hub.broadcastText({ type: 'topic', topic: other.topic, header: other.header });
      }
    }
  }

  private hello(): ViewMessage {
    return {
      type: 'hello',
      v: VIEW_WIRE_VERSION,
      alerts: [...this.alerts],
      status: this.status,
      daemon: this.daemonLink(),
      history: this.history,
      clips: Boolean(this.opts.recordings),
    };
  }

  /** Counters since start, with the number of pages connected now. */
  stats(): ViewServerStats & { connected: number } {
    return { ...this.counters, connected: this.hub.size };
  }

  /**
   * Stops the subscription, disconnects every page (within about a second) and stops listening.
   * Resolves when the subscription has ended: up to the history timeout (3 s) later if a
   * catch-up request is in flight. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.heartbeat);
      this.sub.close();
      await this.hub.close();
      this.http.closeAllConnections();
      await new Promise<void>((resolve) => this.http.close(() => resolve()));
      // Ends within the history timeout when a catch-up request is in flight.
      await this.pump;
    })();
    return this.closing;
  }
}
