import type { Command } from 'commander';
import { LumenError } from '../errors.js';
import { createLogger } from '../log.js';
import { ViewServer } from './view-server.js';

/**
 * How long shutdown may take before the process exits anyway, ms. Pages are disconnected within
 * about a second; a history request in flight could otherwise hold the exit for its timeout.
 */
const SHUTDOWN_DEADLINE_MS = 1500;

/** `lumen view`: a bedside monitor page in the browser, fed by the daemon over a WebSocket. */
export function registerView(program: Command): void {
  program
    .command('view')
    .description('serve a bedside monitor page (overlay, alerts, status) for a browser')
    .option('-e, --endpoint <endpoint>', 'PUB endpoint of the daemon', 'tcp://127.0.0.1:5555')
    .option('--history <endpoint>', 'history endpoint of the daemon', 'tcp://127.0.0.1:5556')
    .option('-p, --port <port>', 'HTTP port of the page (0 = any free port)', '8080')
    .option('--host <host>', 'address to listen on (0.0.0.0 lets other machines open the page)', '127.0.0.1')
    .action(async (opts: { endpoint: string; history: string; port: string; host: string }) => {
      const port = Number(opts.port);
      if (!/^\d+$/.test(opts.port) || port > 65535) throw new LumenError('USAGE', `--port ${opts.port} is not a port number (0–65535)`);
      const log = createLogger('lumen-view');
      const server = await ViewServer.start({ endpoint: opts.endpoint, historyEndpoint: opts.history, host: opts.host, port, log });
      process.stdout.write(`lumen view: open ${server.url} (daemon ${opts.endpoint})\n`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'viewer shutting down');
        const deadline = setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS);
        server.close().then(
          () => {
            clearTimeout(deadline);
            process.exit(0);
          },
          () => process.exit(1),
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
