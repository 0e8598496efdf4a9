// Imported first by the CLI. GStreamer's appsink pull and bus poll each hold a libuv pool thread
// while they wait, beside ONNX Runtime, sharp and fs: the default four threads are not enough.
// libuv sizes its pool when node loads the first module, before this runs: the variable must be
// in the environment node starts with (the service unit, npm start, the scripts and tests pass
// SERVICE_ENV). Set here it still reaches the processes this one starts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './config/paths.js';

/** Whether the pool size came from the environment node started with (else it has 4 threads). */
export const POOL_SIZED = process.env.UV_THREADPOOL_SIZE !== undefined;

/**
 * The environment the daemon is meant to run with (systemd/lumen-edge.service sets the same):
 * - a libuv pool for every GStreamer wait plus ONNX Runtime, sharp and fs;
 * - jemalloc (Debian's libjemalloc2) in place of glibc's malloc. Every analysis frame is a new
 *   1–2 MB Buffer, freed in batches by V8's scavenges; glibc serves them from its main heap
 *   between long-lived small blocks and never hands the holes back, so the resident set climbed
 *   step by step for hours (docs/benchmarks.md). jemalloc keeps large and small blocks apart and
 *   returns unused pages after a second (dirty_decay_ms), from its own thread (background_thread),
 *   not the frame loop's; two arenas, as for glibc below;
 * - two glibc arenas, for a machine where jemalloc is missing (the loader then says so and goes on).
 */
export const SERVICE_ENV = {
  UV_THREADPOOL_SIZE: '16',
  LD_PRELOAD: 'libjemalloc.so.2',
  MALLOC_CONF: 'background_thread:true,narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0',
  MALLOC_ARENA_MAX: '2',
} as const;

/**
 * V8 flags the daemon is meant to run with; node takes them on its command line only (not in
 * NODE_OPTIONS), so the service unit, npm start, the scripts and the tests' daemons pass them.
 *
 * Every analysis frame arrives as a new ~2 MB Buffer from the GStreamer binding. V8 frees young
 * buffers in a scavenge only once 32 MB of them are waiting, but starts a full mark-compact once
 * the external memory allocated since the last one exceeds the old generation's headroom, which
 * it sizes from the live heap (~15 MB live → ~23 MB headroom). Whenever the headroom came out
 * under 32 MB, the daemon settled into a mark-compact every ~10 frames at 1080p60 (5 a second,
 * 2–35 ms each) and stayed there. A floor of 96 MB on the old generation's limit keeps the
 * headroom above the scavenge's threshold (docs/benchmarks.md).
 */
export const SERVICE_NODE_FLAGS = ['--initial-old-space-size=96'] as const;

/** Whether this process runs on jemalloc (SERVICE_ENV's LD_PRELOAD found the library). */
export function onJemalloc(): boolean {
  try {
    return readFileSync('/proc/self/maps', 'utf8').includes('/libjemalloc.so');
  } catch {
    return false;
  }
}

/** Whether node started with SERVICE_NODE_FLAGS. */
export const HEAP_SIZED = SERVICE_NODE_FLAGS.every((f) => process.execArgv.includes(f));

/** The built CLI. */
export const CLI_PATH = join(PROJECT_ROOT, 'dist', 'runtime', 'cli.js');

/** Node's arguments and environment for `lumen <args>` as the service runs it: for the scripts and tests that start the daemon. */
export function asService(args: readonly string[], env: NodeJS.ProcessEnv = {}): { argv: string[]; env: NodeJS.ProcessEnv } {
  return { argv: [...SERVICE_NODE_FLAGS, CLI_PATH, ...args], env: { ...SERVICE_ENV, ...process.env, ...env } };
}

process.env.UV_THREADPOOL_SIZE ??= SERVICE_ENV.UV_THREADPOOL_SIZE;
