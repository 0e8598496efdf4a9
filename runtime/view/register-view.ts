import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { LumenError, errnoOf } from '../errors.js';
import { createLogger } from '../log.js';
import { loadKeyPair, loadPublicKey } from '../publish/curve-keys.js';
import { INSTALLED_CONFIG, recordingsRoot, type StateWhere } from '../record/recordings-root.js';
import { checkToken, isLoopbackHost, makeToken } from './view-auth.js';
import { ViewServer } from './view-server.js';

/**
 * The viewer's token: --token-file, else LUMEN_VIEW_TOKEN, else (on a network address) a fresh
 * one printed once. On loopback without either, the viewer is open. A short token exits 2.
 */
async function viewerToken(host: string, tokenFile: string | undefined): Promise<{ token?: string; made: boolean }> {
  let token: string | undefined;
  if (tokenFile) {
    try {
      token = (await readFile(tokenFile, 'utf8')).trim();
    } catch (err) {
      throw new LumenError('VIEW_TOKEN', `--token-file ${tokenFile}: cannot be read (${errnoOf(err) ?? String(err)})`);
    }
    checkToken(token, `--token-file ${tokenFile}`);
  } else if (process.env.LUMEN_VIEW_TOKEN !== undefined) {
    token = process.env.LUMEN_VIEW_TOKEN;
    checkToken(token, 'LUMEN_VIEW_TOKEN');
  }
  if (token === undefined && !isLoopbackHost(host)) return { token: makeToken(), made: true };
  return { token, made: false };
}

/**
 * The recordings folder whose clips the page links: the one named (it must exist), else the
 * appliance's own when this machine has it; a viewer elsewhere names clips without links.
 */
async function clipsFolder(o: StateWhere): Promise<string | undefined> {
  const root = await recordingsRoot(o);
  if (existsSync(root)) return root;
  if (o.config || o.stateDir) throw new LumenError('USAGE', `${o.stateDir ? '--state-dir' : '--config'}: no recordings folder at ${root}`);
  return undefined;
}

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
    .option('--host <host>', 'address to listen on (0.0.0.0 lets other machines open the page; they then need the token)', '127.0.0.1')
    .option(
      '--token-file <file>',
      'the token pages must present (32+ characters of A-Z a-z 0-9 - _); also LUMEN_VIEW_TOKEN; off loopback one is made and printed if none is given',
    )
    .option('--server-key <pub>', "the daemon's CURVE public key (Z85 or .pub file), when the daemon runs CURVE")
    .option('--key <file>', "this viewer's CURVE key pair file (enrolled with lumen monitors add)")
    .option('-c, --config <file>', `the daemon config whose recordings the page links (default: ${INSTALLED_CONFIG}, else the built-in default, when present)`)
    .option('--state-dir <dir>', "the daemon's state folder (its recordings/ are linked from the page)")
    .action(
      async (opts: StateWhere & { endpoint: string; history: string; port: string; host: string; tokenFile?: string; serverKey?: string; key?: string }) => {
        const port = Number(opts.port);
        if (!/^\d+$/.test(opts.port) || port > 65535) throw new LumenError('USAGE', `--port ${opts.port} is not a port number (0–65535)`);
        if (Boolean(opts.serverKey) !== Boolean(opts.key)) throw new LumenError('USAGE', 'CURVE needs both --server-key and --key');
        const { token, made } = await viewerToken(opts.host, opts.tokenFile);
        const curve = opts.serverKey && opts.key ? { serverKey: await loadPublicKey(opts.serverKey), ...(await loadKeyPair(opts.key)) } : undefined;
        const log = createLogger('lumen-view');
        const recordings = await clipsFolder(opts);
        const server = await ViewServer.start({ endpoint: opts.endpoint, historyEndpoint: opts.history, host: opts.host, port, token, curve, recordings, log });
        // The link carries the token once; the page keeps it as a cookie. Printed here, never logged.
        process.stdout.write(
          `lumen view: open ${server.url}${made ? `?token=${token}` : ''} (daemon ${opts.endpoint})${token && !made ? ' — with ?token=<your token> once per browser' : ''}\n`,
        );
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
      },
    );
}
