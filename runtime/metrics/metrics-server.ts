import { createServer, type Server } from 'node:http';
import type { Logger } from '../log.js';
import { messageOf } from '../errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config/paths.js';
import { bindingInfo } from '../inference/ort.js';
import type { StatusFields } from '../publish/protocol.js';
import { parseListenAddress } from './address.js';
import { LumenMetrics, type FrameSample } from './lumen-metrics.js';

const PRODUCT_VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Config section `metrics`. */
export interface MetricsSettings {
  enabled: boolean;
  /** "host:port"; 127.0.0.1 keeps it off the network unless the site opens it. */
  address: string;
}

/**
 * The daemon's /metrics endpoint. Opening never fails the daemon: an address in use (or any
 * listen error) is one log line, and the daemon runs on without metrics.
 */
export class MetricsServer {
  private closed = false;

  private constructor(
    readonly metrics: LumenMetrics,
    private readonly server: Server | null,
  ) {}

  /** Resolves once listening, or once the listen error has been logged. */
  static async open(settings: MetricsSettings, journalDir: string, log: Logger): Promise<MetricsServer> {
    const metrics = new LumenMetrics(journalDir, { version: PRODUCT_VERSION, onnxruntime: bindingInfo().version });
    if (!settings.enabled) return new MetricsServer(metrics, null);
    const addr = parseListenAddress(settings.address);
    if (!addr) {
      log.warn({ address: settings.address }, 'metrics address is not host:port; metrics not served');
      return new MetricsServer(metrics, null);
    }
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
        return;
      }
      const open = /application\/openmetrics-text/.test(req.headers.accept ?? '');
      const reg = open ? metrics.openMetrics : metrics.registry;
      reg.metrics().then(
        (body) => res.writeHead(200, { 'content-type': reg.contentType }).end(body),
        (err) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${messageOf(err)}\n`),
      );
    });
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'address in use' : messageOf(err);
        log.warn({ address: settings.address, code: err.code }, `metrics not served: ${settings.address}: ${why}; the daemon runs on without them`);
        resolve(false);
      });
      server.listen(addr.port, addr.host, () => resolve(true));
    });
    if (!ok) return new MetricsServer(metrics, null);
    const a = server.address();
    log.info({ address: typeof a === 'object' && a ? `${a.address}:${a.port}` : settings.address }, 'metrics served at /metrics');
    return new MetricsServer(metrics, server);
  }

  /** Whether /metrics is being served. */
  get serving(): boolean {
    return this.server !== null && !this.closed;
  }

  /** Per processed frame (daemon hook). */
  frame(s: FrameSample): void {
    this.metrics.frame(s);
  }

  /** Per status snapshot (daemon hook). */
  status(h: Readonly<StatusFields>): void {
    this.metrics.status(h);
  }

  /** Stops listening; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
