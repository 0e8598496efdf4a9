import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import { serveClip } from './clip-files.js';
import type { StaticFile } from './static-files.js';
import type { ViewAuth } from './view-auth.js';

export interface ViewHttpOptions {
  /** Without it the viewer is open. */
  auth: ViewAuth | null;
  files: Map<string, StaticFile>;
  /** This appliance's recordings folder: `/clips/<id>` downloads are served from it. */
  recordings?: string;
  log: Logger;
  /** The `/healthz` body. */
  health(): object;
  /** False once the viewer is stopping: no new page is accepted. */
  accepting(): boolean;
  /** Hands over a WebSocket upgrade that passed every check. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

// Everything the page needs comes from here: no CDN, no inline script.
const CSP = "default-src 'self'; img-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** The viewer's HTTP side: the page's files, health, clip downloads, and who may have them. */
export class ViewHttp {
  private refusals = { count: 0, loggedAt: 0 };

  constructor(private readonly opts: ViewHttpOptions) {}

  serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const auth = this.opts.auth;
    if (auth && !auth.allows(req)) {
      const token = url.searchParams.get('token') ?? undefined;
      if (auth.matches(token)) {
        // The link with the token, opened once: keep it as a cookie, and take it out of the address bar.
        url.searchParams.delete('token');
        res
          .writeHead(303, {
            location: `${path}${url.search}`,
            'set-cookie': auth.cookie(token!),
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
      const body = JSON.stringify(this.opts.health());
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
    const f = this.opts.files.get(path);
    if (!f) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'content-type': f.type,
      'content-length': f.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': CSP,
    });
    res.end(req.method === 'HEAD' ? undefined : f.body);
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    // A page from another site must not read the stream through this browser (cross-site WebSocket).
    const origin = req.headers.origin;
    const sameOrigin = origin === undefined || hostOf(origin) === req.headers.host;
    if (path === '/ws' && this.opts.auth && !this.opts.auth.allows(req)) {
      this.refused(req, path);
      socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\n\r\n');
      return;
    }
    if (path !== '/ws' || !sameOrigin || !this.opts.accepting()) {
      socket.end(`HTTP/1.1 ${path !== '/ws' ? '404 Not Found' : '403 Forbidden'}\r\nconnection: close\r\n\r\n`);
      return;
    }
    this.opts.upgrade(req, socket, head);
  }

  /** Refusals are logged once per 10 s with a count: a network scanner must not flood the log. */
  private refused(req: IncomingMessage, path: string): void {
    this.refusals.count++;
    const now = Date.now();
    if (now - this.refusals.loggedAt < 10_000) return;
    this.opts.log.warn({ path, from: req.socket.remoteAddress, refused: this.refusals.count }, 'viewer request refused: no valid token');
    this.refusals = { count: 0, loggedAt: now };
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
