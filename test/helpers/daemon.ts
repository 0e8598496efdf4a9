import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asService, CLI_PATH } from '../../runtime/env.js';
import { LumenClient, type ClientOptions } from '../../runtime/client/client.js';
import { freePort } from '../../runtime/util/free-port.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = CLI_PATH;
export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

/** The first `n` real frames of a set in the shared data, by path (read in place, never copied). */
export function sharedImages(set: 'cvc-clinicdb' | 'kvasir-seg', n: number): string[] {
  return readdirSync(`${SHARED_DATA}${set}/images`)
    .slice(0, n)
    .map((f) => `${SHARED_DATA}${set}/images/${f}`);
}

export { freePort };

export function tempDir(prefix = 'lumen-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Endpoints {
  endpoint: string;
  historyEndpoint: string;
}

export async function endpoints(): Promise<Endpoints> {
  return { endpoint: `tcp://127.0.0.1:${await freePort()}`, historyEndpoint: `tcp://127.0.0.1:${await freePort()}` };
}

/** Writes a JSON config into `dir` and returns its path. */
export function writeConfig(dir: string, config: unknown, name = 'config.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Runs the lumen CLI as a child process; the test must kill it (see `stop`). */
export function lumen(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  // As the service runs it (systemd/lumen-edge.service).
  const service = asService(args, env);
  const proc = spawn(process.execPath, service.argv, { env: service.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** In a teardown: prints the end of the child's log when the test failed, so CI shows why. */
export function logOnFailure(t: { passing(): boolean; comment(...m: unknown[]): void }, c: Child, what = 'daemon'): void {
  if (!t.passing()) t.comment(`${what} stderr (last 3000 chars):\n${c.stderr().slice(-3000)}`);
}

/** Sends SIGTERM (then SIGKILL after `graceMs`) and waits for the exit. */
export async function stop(c: Child, graceMs = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) {
    const e = await c.exited;
    return { code: e.code, signal: e.signal, ms: 0 };
  }
  const t0 = Date.now();
  c.proc.kill('SIGTERM');
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
  const e = await c.exited;
  clearTimeout(timer);
  return { code: e.code, signal: e.signal, ms: e.at - t0 };
}

type TeardownTest = { teardown(fn: () => unknown): void; passing(): boolean; comment(...m: unknown[]): void };

/**
 * Starts `lumen run --config config` and a client subscribed to it; both are closed in the
 * test's teardown (the daemon's log is printed if the test failed).
 */
export function daemonWithClient(t: TeardownTest, config: string, client: ClientOptions, env: NodeJS.ProcessEnv = {}): { daemon: Child; client: LumenClient } {
  const daemon = lumen(['run', '--config', config], env);
  const c = new LumenClient(client);
  t.teardown(async () => {
    c.close();
    logOnFailure(t, daemon);
    await stop(daemon);
  });
  return { daemon, client: c };
}

/** Resolves when `pred` returns true for a message, or rejects after `ms`. */
export async function waitFor<T>(source: AsyncIterable<T>, pred: (m: T) => boolean, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  const search = (async () => {
    for await (const m of source) if (pred(m)) return m;
    throw new Error(`stream ended while waiting for ${what}`);
  })();
  try {
    return await Promise.race([search, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
