// record/: recording: alert clips and procedure segments written with their annotation sidecars, the
// catalogue, retention and export.
import { existsSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LumenError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ClipInfo } from '../publish/protocol.js';
import { ensureFolder, FILE_MODE } from './disk.js';

/** A recording's record: the wire type (protocol.ts), kept beside the video as `<id>.json`. */
export type RecordingInfo = ClipInfo;
export type RecordingKind = ClipInfo['kind'];
export type RecordingState = ClipInfo['state'];

const FOLDER: Record<RecordingKind, string> = { clip: 'clips', segment: 'segments' };
/** Recording ids: kind, UTC start time, alert episode (clips) and a counter when two share a second. */
export const RECORDING_ID = /^(clip|seg)-\d{8}T\d{6}Z(-e\d{1,9})?(-\d{1,4})?$/;

/**
 * The recordings folder's index: one JSON record per recording, written atomically (temporary
 * file, fsync, rename), so a crash leaves either the old record or the new. A record still
 * `recording` at start belongs to a run that died: it is marked `incomplete`. Deleted clips
 * keep their record (a tombstone), so a request for one says it was deleted.
 */
export class Catalogue {
  private readonly byId = new Map<string, RecordingInfo>();

  private constructor(readonly root: string) {}

  /** Opens (making the folders, mode 0700) and repairs the index after a crash. */
  static async open(root: string, log: Logger): Promise<Catalogue> {
    const c = await Catalogue.read(root, true);
    for (const r of c.byId.values()) {
      if (r.state !== 'recording') continue;
      r.state = 'incomplete';
      r.bytes = await c.sizeOf(r);
      r.endReason = 'crash';
      await c.save(r);
      log.warn({ id: r.id, path: r.path, bytes: r.bytes }, 'recording cut short by the previous run: marked incomplete');
    }
    return c;
  }

  /** Reads the index as it is on disk (lumen clips, while the daemon may be writing). */
  static async read(root: string, repair = false): Promise<Catalogue> {
    const c = new Catalogue(root);
    if (repair) for (const kind of ['clip', 'segment'] as const) await ensureFolder(join(root, FOLDER[kind]));
    for (const kind of ['clip', 'segment'] as const) {
      const dir = join(root, FOLDER[kind]);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const n of names) {
        if (n.endsWith('.tmp')) {
          if (repair) await rm(join(dir, n), { force: true });
          continue;
        }
        if (!n.endsWith('.json') || n.endsWith('.annotations.json')) continue;
        try {
          const r = JSON.parse(await readFile(join(dir, n), 'utf8')) as RecordingInfo;
          if (r.version === 1 && RECORDING_ID.test(r.id) && r.kind === kind) c.byId.set(r.id, r);
        } catch {
          // A record is replaced by rename, never torn; an unreadable one is not ours.
        }
      }
    }
    return c;
  }

  /** A new record's id: kind, UTC start second, episode; unique within the folder. */
  newId(kind: RecordingKind, at: number, episode?: number): string {
    const stamp = new Date(at)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const base = `${kind === 'clip' ? 'clip' : 'seg'}-${stamp}${episode !== undefined ? `-e${episode}` : ''}`;
    let id = base;
    for (let n = 2; this.byId.has(id); n++) id = `${base}-${n}`;
    return id;
  }

  /** Paths of a new record, relative to the recordings folder. */
  pathsFor(kind: RecordingKind, id: string): { path: string; sidecar: string } {
    return { path: `${FOLDER[kind]}/${id}.mkv`, sidecar: `${FOLDER[kind]}/${id}.annotations.json` };
  }

  get(id: string): RecordingInfo | undefined {
    return this.byId.get(id);
  }

  /** Oldest first (ids sort by start time within a kind). */
  list(): RecordingInfo[] {
    return [...this.byId.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** Looks a recording up for a reader: CLIP_UNKNOWN or CLIP_DELETED when it cannot be had. */
  lookup(id: string): RecordingInfo {
    if (!RECORDING_ID.test(id)) throw new LumenError('CLIP_UNKNOWN', `"${id.slice(0, 80)}" is not a recording id`, { id: id.slice(0, 80) });
    let r = this.byId.get(id);
    // The index is a cache of the records on disk: one deleted by hand (or with its folder) is gone.
    if (r && !existsSync(this.recordFile(r))) {
      this.byId.delete(id);
      r = undefined;
    }
    if (!r) throw new LumenError('CLIP_UNKNOWN', `no recording ${id} on this appliance`, { id });
    if (r.state === 'deleted')
      throw new LumenError(
        'CLIP_DELETED',
        `recording ${id} was deleted by retention (${r.deleteReason ?? 'retention'}) at ${new Date(r.deletedAt ?? 0).toISOString()}`,
        { id },
      );
    return r;
  }

  abs(rel: string): string {
    return join(this.root, rel);
  }

  private recordFile(r: RecordingInfo): string {
    return join(this.root, FOLDER[r.kind], `${r.id}.json`);
  }

  /** Forgets the records whose file is gone (deleted by hand, or with the folder); `busy` ones stay. */
  prune(busy: ReadonlySet<string>): void {
    for (const r of [...this.byId.values()]) if (!busy.has(r.id) && !existsSync(this.recordFile(r))) this.byId.delete(r.id);
  }

  /** Writes the record atomically and durably. */
  async save(r: RecordingInfo): Promise<void> {
    const file = this.recordFile(r);
    await writeDurably(file, JSON.stringify(r, null, 2) + '\n');
    this.byId.set(r.id, r);
  }

  /** Bytes of video and sidecar on disk now. */
  async sizeOf(r: RecordingInfo): Promise<number> {
    const size = (p: string) =>
      stat(this.abs(p)).then(
        (s) => s.size,
        () => 0,
      );
    return (await size(r.path)) + (await size(r.sidecar));
  }

  /** Removes the files; a clip keeps a tombstone record, a segment's record goes too. */
  async remove(r: RecordingInfo, reason: string): Promise<void> {
    await rm(this.abs(r.path), { force: true });
    await rm(this.abs(r.sidecar), { force: true });
    if (r.kind === 'segment') {
      await rm(join(this.root, FOLDER[r.kind], `${r.id}.json`), { force: true });
      this.byId.delete(r.id);
      return;
    }
    await this.save({ ...r, state: 'deleted', bytes: 0, deletedAt: Date.now(), deleteReason: reason });
  }

  /** Forgets a tombstone (its record file goes). */
  async forget(r: RecordingInfo): Promise<void> {
    await rm(join(this.root, FOLDER[r.kind], `${r.id}.json`), { force: true });
    this.byId.delete(r.id);
  }
}

/** Writes a file (mode 0600) by temporary file, fsync and rename, then syncs the folder. */
export async function writeDurably(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', FILE_MODE);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(join(file, '..'), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
