// publish/: the publish stage: ZeroMQ PUB for status, alerts and overlays, the alert journal and history
// endpoint, CURVE keys and the monitor allow-list.
/**
 * The monitor allow-list: which CURVE client keys may connect to the daemon's sockets.
 *
 * File format (what `lumen monitors` writes, and a technician may edit): one `NAME KEY` per line,
 * NAME from [A-Za-z0-9._-] (up to 64, not starting with a dot or dash), KEY the monitor's 40-character
 * Z85 public key; blank lines and lines starting with `#` are ignored. A malformed line or a
 * repeated name or key refuses the whole file: a half-applied list would be worse than none.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LumenError, isLumenError, messageOf, errnoOf } from '../errors.js';
import type { Logger } from '../log.js';
import { isCurveKey } from './z85.js';

/** One enrolled monitor: a name chosen by the technician and its CURVE public key (Z85). */
export interface Monitor {
  name: string;
  key: string;
}

export const MONITOR_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/** Throws MONITOR_KEY unless `key` is a 40-character Z85 string that decodes to 32 bytes. */
export function checkMonitorKey(key: string, what: string): void {
  if (!isCurveKey(key)) throw new LumenError('MONITOR_KEY', `${what}: "${key.slice(0, 60)}" is not a 40-character Z85 CURVE public key`);
}

/** Parses allow-list text; throws ALLOWLIST_INVALID naming the first bad line. */
export function parseAllowList(text: string, source: string): Monitor[] {
  const out: Monitor[] = [];
  const names = new Map<string, number>();
  const keys = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = `${source} line ${i + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 2) throw new LumenError('ALLOWLIST_INVALID', `${at}: expected "NAME KEY", got ${fields.length} field(s)`, { line: i + 1 });
    const [name, key] = fields;
    if (!MONITOR_NAME.test(name))
      throw new LumenError('ALLOWLIST_INVALID', `${at}: "${name.slice(0, 80)}" is not a monitor name (A-Z a-z 0-9 . _ -, up to 64)`, { line: i + 1 });
    if (!isCurveKey(key)) throw new LumenError('ALLOWLIST_INVALID', `${at}: the key of ${name} is not a 40-character Z85 CURVE public key`, { line: i + 1 });
    if (names.has(name)) throw new LumenError('ALLOWLIST_INVALID', `${at}: name ${name} already on line ${names.get(name)}`, { line: i + 1 });
    if (keys.has(key)) throw new LumenError('ALLOWLIST_INVALID', `${at}: the key of ${name} is already enrolled on line ${keys.get(key)}`, { line: i + 1 });
    names.set(name, i + 1);
    keys.set(key, i + 1);
    out.push({ name, key });
  }
  return out;
}

export function formatAllowList(monitors: readonly Monitor[]): string {
  const head = '# Lumen Edge monitor allow-list: NAME KEY (CURVE public key, Z85). Edit with `lumen monitors`.\n';
  return head + monitors.map((m) => `${m.name} ${m.key}\n`).join('');
}

/** Reads and parses the file; a file that does not exist yet is an empty list (nothing enrolled). */
export async function readAllowList(path: string): Promise<Monitor[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw new LumenError('ALLOWLIST_INVALID', `${path}: cannot be read (${errnoOf(err) ?? messageOf(err)})`);
  }
  return parseAllowList(text, path);
}

/**
 * Replaces the file atomically (write beside it, fsync, rename): the daemon watching it never
 * reads half a list. Mode 0644: public keys are not secret, only root should change them.
 */
export async function writeAllowList(path: string, monitors: readonly Monitor[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(formatAllowList(monitors));
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export interface AllowListOptions {
  /** The allow-list file ('' = none: only `staticKeys`). */
  file: string;
  /** Keys listed in the config itself (publish.curve.allowedClients); not editable at run time. */
  staticKeys: readonly string[];
  log: Logger;
  /** Watch the file and re-read it on SIGHUP (the daemon); off for one-shot readers. */
  watch?: boolean;
}

/** Quiet period after a file event before re-reading: editors write in several steps. */
const SETTLE_MS = 100;
/** A refused key is logged once, then at most once per this many ms with a count. */
const REFUSAL_LOG_MS = 30_000;

/**
 * The daemon's live allow-list. The ZAP handler asks `admit(key)` at each CURVE handshake; the
 * set behind it is swapped whole when the file changes (file watch or SIGHUP). A file that does
 * not parse is refused with its code and the running set stays in place. When keys are removed,
 * `onRevoke` listeners run so the publisher can drop connections already made with them.
 */
export class MonitorAllowList {
  private monitors: Monitor[] = [];
  private allowed: ReadonlySet<string> = new Set();
  private readonly revokeListeners: (() => void)[] = [];
  private watcher: FSWatcher | undefined;
  private settle: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private readonly refusals = new Map<string, { at: number; suppressed: number }>();
  private readonly onHup = () => this.scheduleReload('SIGHUP');
  private closed = false;

  private constructor(private readonly opts: AllowListOptions) {}

  /** Reads the file (refusing a malformed one with ALLOWLIST_INVALID) and starts watching it. */
  static async open(opts: AllowListOptions): Promise<MonitorAllowList> {
    for (const k of opts.staticKeys) checkMonitorKey(k, 'publish.curve.allowedClients');
    const list = new MonitorAllowList(opts);
    list.swap(opts.file ? await readAllowList(opts.file) : []);
    if (opts.watch && opts.file) list.startWatching();
    return list;
  }

  /** Monitors from the file (not the config's static keys). */
  get enrolled(): readonly Monitor[] {
    return this.monitors;
  }

  /** Keys admitted now: the file's and the config's. */
  get size(): number {
    return this.allowed.size;
  }

  has(key: string): boolean {
    return this.allowed.has(key);
  }

  /** For the ZAP handler: true if `key` may connect; refusals are logged, rate-limited per key. */
  admit(key: string): boolean {
    if (this.allowed.has(key)) return true;
    const now = Date.now();
    const r = this.refusals.get(key);
    // A refused client reconnects every 100 ms or so: log the first refusal, then a count.
    if (!r || now - r.at >= REFUSAL_LOG_MS) {
      this.opts.log.warn({ clientKey: key, ...(r?.suppressed ? { refusedSinceLastLog: r.suppressed } : {}) }, 'CURVE client refused: key not listed');
      this.refusals.set(key, { at: now, suppressed: 0 });
      if (this.refusals.size > 1000) this.refusals.delete(this.refusals.keys().next().value as string);
    } else r.suppressed++;
    return false;
  }

  onRevoke(fn: () => void): void {
    this.revokeListeners.push(fn);
  }

  /** Re-reads the file now; resolves false (and keeps the running list) if it is refused. */
  reload(reason = 'request'): Promise<boolean> {
    const run = this.reloading.then(() => this.doReload(reason));
    this.reloading = run.then(() => undefined);
    return run;
  }

  private async doReload(reason: string): Promise<boolean> {
    if (this.closed || !this.opts.file) return false;
    let next: Monitor[];
    try {
      next = await readAllowList(this.opts.file);
    } catch (err) {
      const code = isLumenError(err) ? err.code : 'ALLOWLIST_INVALID';
      this.opts.log.error({ code, err: messageOf(err), file: this.opts.file, reason }, 'monitor allow-list refused; the running list stays in place');
      return false;
    }
    const before = new Map(this.monitors.map((m) => [m.key, m]));
    const after = new Map(next.map((m) => [m.key, m]));
    const added = next.filter((m) => !before.has(m.key));
    const removed = this.monitors.filter((m) => !after.has(m.key));
    const renamed = next.filter((m) => before.has(m.key) && before.get(m.key)!.name !== m.name);
    if (!added.length && !removed.length && !renamed.length) return true;
    const revoked = this.swap(next);
    this.opts.log.info(
      { file: this.opts.file, reason, added: added.map(show), removed: removed.map(show), renamed: renamed.map(show), monitors: this.monitors.length },
      'monitor allow-list changed',
    );
    if (revoked) for (const fn of this.revokeListeners) fn();
    return true;
  }

  /** Installs a new list; true when a key that was admitted no longer is. */
  private swap(next: Monitor[]): boolean {
    const allowed = new Set([...this.opts.staticKeys, ...next.map((m) => m.key)]);
    const revoked = [...this.allowed].some((k) => !allowed.has(k));
    this.monitors = next;
    this.allowed = allowed;
    for (const k of allowed) this.refusals.delete(k);
    return revoked;
  }

  private startWatching(): void {
    const file = this.opts.file;
    // The directory, not the file: an atomic replace (rename) gives the file a new inode, and a
    // watch on the old one would go quiet. Creation of a first list is seen the same way.
    try {
      this.watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
        if (name === null || name === basename(file)) this.scheduleReload('file changed');
      });
      this.watcher.on('error', (err) => this.opts.log.error({ err: messageOf(err), file }, 'allow-list watch failed; SIGHUP still reloads it'));
    } catch (err) {
      this.opts.log.error({ err: messageOf(err), file }, 'cannot watch the allow-list folder; SIGHUP reloads it');
    }
    process.on('SIGHUP', this.onHup);
  }

  private scheduleReload(reason: string): void {
    clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.reload(reason), SETTLE_MS);
  }

  /** Stops watching. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.settle);
    this.watcher?.close();
    process.off('SIGHUP', this.onHup);
  }
}

function show(m: Monitor): string {
  return `${m.name} ${m.key.slice(0, 8)}…`;
}
