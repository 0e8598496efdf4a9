import type { RecordingInfo } from './catalogue.js';

/** Config record.retention. */
export interface RetentionSettings {
  quotaMB: number;
  segmentMaxAgeHours: number;
  clipMaxAgeDays: number;
  minFreeMB: number;
}

/** How long a deleted clip's tombstone answers "deleted" rather than "unknown", ms. */
export const TOMBSTONE_MS = 365 * 24 * 3600 * 1000;

export interface Deletion {
  record: RecordingInfo;
  reason: 'age' | 'quota';
}

/**
 * What retention deletes now, in order: every recording past its age (segments after
 * segmentMaxAgeHours, clips after clipMaxAgeDays), then, while the rest exceeds the quota, the
 * oldest segment, and only when no segment is left the oldest clip. Recordings being written
 * (`busy`) are never deleted. Pure: the caller removes the files.
 */
export function chooseDeletions(records: readonly RecordingInfo[], now: number, s: RetentionSettings, busy: ReadonlySet<string>): Deletion[] {
  const live = records.filter((r) => r.state !== 'deleted' && r.state !== 'recording' && !busy.has(r.id));
  const maxAge = (r: RecordingInfo) => (r.kind === 'clip' ? s.clipMaxAgeDays * 24 : s.segmentMaxAgeHours) * 3600 * 1000;
  const out: Deletion[] = live.filter((r) => now - r.createdAt > maxAge(r)).map((record) => ({ record, reason: 'age' as const }));
  const gone = new Set(out.map((d) => d.record.id));
  let used = records.filter((r) => r.state !== 'deleted' && !gone.has(r.id)).reduce((sum, r) => sum + r.bytes, 0);
  const quota = s.quotaMB * 2 ** 20;
  const oldestFirst = (a: RecordingInfo, b: RecordingInfo) => a.createdAt - b.createdAt || a.id.localeCompare(b.id);
  const candidates = [...live.filter((r) => r.kind === 'segment').sort(oldestFirst), ...live.filter((r) => r.kind === 'clip').sort(oldestFirst)].filter(
    (r) => !gone.has(r.id),
  );
  for (const record of candidates) {
    if (used <= quota) break;
    out.push({ record, reason: 'quota' });
    used -= record.bytes;
  }
  return out;
}

/** Tombstones old enough to forget. */
export function expiredTombstones(records: readonly RecordingInfo[], now: number): RecordingInfo[] {
  return records.filter((r) => r.state === 'deleted' && now - (r.deletedAt ?? 0) > TOMBSTONE_MS);
}
