import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { isLumenError, LumenError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { Catalogue, type RecordingInfo, type RecordingKind } from './catalogue.js';
import type { Size } from '../frame.js';
import { PROFILES } from './profiles.js';
import { chooseDeletions, expiredTombstones } from './retention.js';
import type { DecisionContext } from './sidecar.js';
import { RecordingWriter } from './writer.js';

const PRODUCT = `lumen-edge ${(JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version}`;

export interface StoreHooks {
  /** A recording was finished (complete or failed). */
  finished(info: RecordingInfo): void;
  /** Models in use, for the sidecars. */
  models(): readonly { id: string; version: string }[];
  /** A file or the folder failed: recording stops. */
  fault(err: LumenError): void;
}

/**
 * The recordings folder: its index (opened lazily, again after a fault), the files being
 * written and finished, and retention. Owned by the Recorder.
 */
export class RecordingStore {
  private cat: Catalogue | null = null;
  private readonly finishing = new Set<Promise<unknown>>();
  /** Tombstones whose record could not be removed (logged once each). */
  private readonly unforgotten = new Set<string>();
  /** Recordings on disk, tallied after each sweep. */
  tally: RecordingInfo[] = [];

  constructor(
    readonly root: string,
    private readonly config: Readonly<Config>,
    private readonly hooks: StoreHooks,
    private readonly log: Logger,
  ) {}

  get open(): boolean {
    return this.cat !== null;
  }

  /** Opens the folder and index (mode 0700, crash repair); false and a fault when it cannot. */
  async ensureOpen(): Promise<boolean> {
    if (this.cat) return true;
    try {
      this.cat = await Catalogue.open(this.root, this.log);
      this.tally = this.cat.list();
      return true;
    } catch (err) {
      this.hooks.fault(isLumenError(err) ? err : new LumenError('RECORD_FOLDER', `${this.root}: ${messageOf(err)}`));
      return false;
    }
  }

  /** Forgets the index, so that the next ensureOpen reads the folder again (it may have been replaced). */
  reset(): void {
    this.cat = null;
  }

  /** A new file of `kind`, starting now; its record is saved as `recording` before the file exists. */
  writer(kind: RecordingKind, at: number, size: Size, alert?: RecordingInfo['alert']): RecordingWriter {
    const cat = this.cat!;
    const r = this.config.record;
    const id = cat.newId(kind, at, alert?.episode);
    const info: RecordingInfo = {
      version: 1,
      id,
      kind,
      state: 'recording',
      ...cat.pathsFor(kind, id),
      codec: PROFILES[r.encoder].codec,
      width: size.width,
      height: size.height,
      firstFrame: null,
      lastFrame: null,
      frames: 0,
      startTs: null,
      endTs: null,
      bytes: 0,
      createdAt: Date.now(),
      ...(alert ? { alert } : {}),
    };
    const ctx: DecisionContext = {
      models: this.hooks.models().map((m) => ({ id: m.id, version: m.version })),
      decision: { ...this.config.decision },
      product: PRODUCT,
    };
    this.log.info({ id, kind }, 'recording started');
    const w = new RecordingWriter(cat, info, PROFILES[r.encoder], ctx, (_w, err) => this.hooks.fault(err), this.log);
    w.stuckBytes = Math.max(2 ** 20, 3 * r.bitrateKbps * 125);
    return w;
  }

  /** Finishes a file in the background; then publishes its record and applies retention. */
  finish(w: RecordingWriter, reason: string, busy: () => ReadonlySet<string>, extra: Partial<RecordingInfo> = {}): void {
    const p = w.finish(reason, extra).then((info) => {
      this.hooks.finished(info);
      return this.sweep(busy());
    });
    this.finishing.add(p);
    void p.finally(() => this.finishing.delete(p));
  }

  /** Waits for every file being finished. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.finishing]);
  }

  /** Retention: age, then quota (segments first); tombstones a year old are forgotten. */
  async sweep(busy: ReadonlySet<string>): Promise<void> {
    const cat = this.cat;
    if (!cat) return;
    const now = Date.now();
    cat.prune(busy);
    for (const { record, reason } of chooseDeletions(cat.list(), now, this.config.record.retention, busy)) {
      await cat.remove(record, reason).then(
        () => this.log.info({ id: record.id, kind: record.kind, reason, bytes: record.bytes }, 'recording deleted by retention'),
        (err: unknown) => this.log.warn({ id: record.id, err: messageOf(err) }, 'retention could not delete a recording'),
      );
    }
    for (const t of expiredTombstones(cat.list(), now))
      await cat.forget(t).catch((err: unknown) => {
        // Tried again at the next pass; said once per record, not every pass.
        if (this.unforgotten.has(t.id)) return;
        this.unforgotten.add(t.id);
        this.log.warn({ id: t.id, err: messageOf(err) }, 'retention could not remove the record of a deleted clip');
      });
    this.tally = cat.list();
  }

  /** A recording's record (history op `clip`): CLIP_UNKNOWN or CLIP_DELETED when it cannot be had. */
  describe(id: string, why: string): RecordingInfo {
    if (!this.cat) throw new LumenError('CLIP_UNKNOWN', `no recording ${id.slice(0, 80)}: the recordings folder is not available (${why})`);
    return this.cat.lookup(id);
  }
}
