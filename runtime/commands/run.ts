import type { Command } from 'commander';
import { builtInConfig } from '../config/default.js';
import { loadConfig } from '../config/load.js';
import { Daemon } from '../daemon/daemon.js';
import { HEAP_SIZED, onJemalloc, POOL_SIZED, SERVICE_ENV, SERVICE_NODE_FLAGS } from '../env.js';
import { createLogger } from '../log.js';

/** How long shutdown may take before the process exits anyway, ms (the contract is 2 s). */
const SHUTDOWN_DEADLINE_MS = 1700;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the appliance daemon (default: demo feed and bundled reference models)')
    .option('-c, --config <file>', 'YAML or JSON config file')
    .action(async (opts: { config?: string }) => {
      const log = createLogger('lumen');
      if (!POOL_SIZED)
        log.warn(
          { UV_THREADPOOL_SIZE: SERVICE_ENV.UV_THREADPOOL_SIZE },
          'node started without UV_THREADPOOL_SIZE: 4 pool threads, which GStreamer waits can fill and starve file writes and recording; set it in the environment (the service unit and npm start do)',
        );
      if (!HEAP_SIZED)
        log.warn(
          { nodeFlags: SERVICE_NODE_FLAGS },
          'node started without its heap flags: at high frame rates V8 may settle into a full collection every few frames (pauses in the frame path); pass them to node (the service unit and npm start do)',
        );
      if (!onJemalloc())
        log.warn(
          { LD_PRELOAD: SERVICE_ENV.LD_PRELOAD, MALLOC_CONF: SERVICE_ENV.MALLOC_CONF },
          "node started without jemalloc: on glibc's malloc the resident set climbs for hours with the frame buffers; install libjemalloc2 and preload it (the service unit and npm start do)",
        );
      const config = opts.config ? await loadConfig(opts.config) : await builtInConfig();
      const daemon = await Daemon.start(config, log);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        // GStreamer's bus poll keeps a pool thread busy forever: exit explicitly once closed.
        const deadline = setTimeout(() => {
          log.warn('shutdown deadline reached; exiting');
          process.exit(0);
        }, SHUTDOWN_DEADLINE_MS);
        daemon.stop().then(
          () => {
            clearTimeout(deadline);
            process.exit(0);
          },
          (err) => {
            log.error({ err: String(err) }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      // SIGHUP: re-open the configured bundles (after an update); refused bundles change nothing.
      process.on('SIGHUP', () => void daemon.reloadModels());
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
