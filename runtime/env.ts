// Imported first by the CLI. GStreamer's appsink pull and bus poll each hold a libuv pool thread
// while they wait, beside ONNX Runtime, sharp and fs: the default four threads are not enough.
// libuv sizes its pool when node loads the first module, before this runs: the variable must be
// in the environment node starts with (the service unit, npm start, the scripts and tests pass
// SERVICE_ENV). Set here it still reaches the processes this one starts.

/** Whether the pool size came from the environment node started with (else it has 4 threads). */
export const POOL_SIZED = process.env.UV_THREADPOOL_SIZE !== undefined;

/**
 * The environment the daemon is meant to run with (systemd/lumen-edge.service sets the same):
 * a libuv pool for every GStreamer wait plus ONNX Runtime, sharp and fs; and two malloc arenas,
 * since GStreamer's and ONNX Runtime's threads would each get one and the resident set would creep
 * up with fragmentation over a day of frames (docs/benchmarks.md).
 */
export const SERVICE_ENV = { UV_THREADPOOL_SIZE: '16', MALLOC_ARENA_MAX: '2' } as const;

process.env.UV_THREADPOOL_SIZE ??= SERVICE_ENV.UV_THREADPOOL_SIZE;
