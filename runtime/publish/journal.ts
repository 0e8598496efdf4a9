import { open, readFile, rename, stat, truncate, type FileHandle } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { errnoOf, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { AlertHeader } from './protocol.js';

export interface JournalOptions {
  dir: string;
  /** Rotate when the current file exceeds this, bytes (one previous file is kept). */
  maxBytes: number;
}

/**
 * Append-only alert journal (JSON lines). Every event is written and fdatasync'd before it is
 * published, so `seq` continues across restarts and a subscriber can always fetch what it
 * missed. A torn last line (crash mid-write) is dropped at open, with a log line.
 */
export class AlertJournal {
  private lastSeq = 0;
  private events: AlertHeader[] = [];
  /** How many of `events` come from the previous (rotated) file. */
  private previousCount = 0;
  private closed = false;

  private constructor(
    private readonly opts: JournalOptions,
    private fh: FileHandle,
    private size: number,
    private readonly log: Logger,
  ) {}

  static async open(opts: JournalOptions, log: Logger): Promise<AlertJournal> {
    mkdirSync(opts.dir, { recursive: true });
    const current = join(opts.dir, 'alerts.jsonl');
    const previous = await readLines(join(opts.dir, 'alerts.1.jsonl'), log, false);
    const lines = await readLines(current, log, true);
    const fh = await open(current, 'a');
    const size = (await stat(current)).size;
    const j = new AlertJournal(opts, fh, size, log);
    j.events = [...previous, ...lines];
    j.previousCount = previous.length;
    j.lastSeq = j.events.at(-1)?.seq ?? 0;
    return j;
  }

  get seq(): number {
    return this.lastSeq;
  }

  /** The newest journalled alert (after a restart: the last one the previous run wrote). */
  get last(): AlertHeader | undefined {
    return this.events.at(-1);
  }

  /** Assigns the next seq, appends and syncs; resolves with the stored event. */
  async append(event: Omit<AlertHeader, 'seq'>): Promise<AlertHeader> {
    const stored: AlertHeader = { ...event, seq: this.lastSeq + 1 };
    const line = JSON.stringify(stored) + '\n';
    await this.fh.appendFile(line);
    await this.fh.datasync();
    this.lastSeq = stored.seq;
    this.size += Buffer.byteLength(line);
    this.events.push(stored);
    if (this.size > this.opts.maxBytes) await this.rotate();
    return stored;
  }

  /** Events with seq > after, oldest first, at most `limit`. */
  since(after: number, limit: number): { events: AlertHeader[]; more: boolean } {
    const start = this.events.findIndex((e) => e.seq > after);
    if (start < 0) return { events: [], more: false };
    const events = this.events.slice(start, start + limit);
    return { events, more: start + limit < this.events.length };
  }

  private async rotate(): Promise<void> {
    await this.fh.close();
    const current = join(this.opts.dir, 'alerts.jsonl');
    await rename(current, join(this.opts.dir, 'alerts.1.jsonl'));
    this.fh = await open(current, 'a');
    this.size = 0;
    // Memory holds what is on disk: the file just rotated (the older one is overwritten).
    this.events = this.events.slice(this.previousCount);
    this.previousCount = this.events.length;
    this.log.info({ seq: this.lastSeq }, 'alert journal rotated');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

async function readLines(path: string, log: Logger, repair: boolean): Promise<AlertHeader[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    // No file yet is the normal first start; anything else loses the alerts it held, so it is said.
    if (errnoOf(err) !== 'ENOENT') log.error({ file: path, err: messageOf(err) }, 'alert journal unreadable: its alerts are not in the history');
    return [];
  }
  const events: AlertHeader[] = [];
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  if (tail !== '') {
    log.warn({ file: path, bytes: Buffer.byteLength(tail) }, 'alert journal ends in a torn line: dropped');
    if (repair) await truncate(path, Buffer.byteLength(text) - Buffer.byteLength(tail));
  }
  for (const [i, line] of lines.entries()) {
    try {
      events.push(JSON.parse(line) as AlertHeader);
    } catch {
      log.warn({ file: path, line: i + 1 }, 'alert journal line is not JSON: skipped');
    }
  }
  return events;
}
