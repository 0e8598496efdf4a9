import t from 'tap';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { AlertJournal } from '../runtime/publish/journal.js';
import { createLogger } from '../runtime/log.js';
import { tempDir } from './helpers/daemon.js';

const log = createLogger('test', 'silent');
const event = (episode: number) => ({
  v: 1,
  bootId: 'b',
  frameId: episode,
  ts: episode,
  type: 'raise' as const,
  episode,
  onsetFrame: 0,
  score: 0.9,
  peakScore: 0.9,
  box: null,
  areaPx: null,
});

t.test('seq continues across reopen, and since() returns what came after', async (t) => {
  const dir = tempDir();
  const j = await AlertJournal.open({ dir, maxBytes: 1 << 20 }, log);
  for (let i = 1; i <= 3; i++) await j.append(event(i));
  await j.close();
  const j2 = await AlertJournal.open({ dir, maxBytes: 1 << 20 }, log);
  t.equal(j2.seq, 3);
  t.equal((await j2.append(event(4))).seq, 4);
  t.same(
    j2.since(2, 10).events.map((e) => e.seq),
    [3, 4],
  );
  t.same(
    j2.since(0, 2),
    {
      events: [
        { ...event(1), seq: 1 },
        { ...event(2), seq: 2 },
      ],
      more: true,
    },
    'the first two, as appended, and more to come',
  );
  t.same(
    j2.since(2, 2),
    {
      events: [
        { ...event(3), seq: 3 },
        { ...event(4), seq: 4 },
      ],
      more: false,
    },
    'a page that ends on the last event has no more',
  );
  t.same(j2.since(4, 10), { events: [], more: false }, 'nothing after the last seq');
  t.same(j2.since(-5, 1), { events: [{ ...event(1), seq: 1 }], more: true }, 'any seq below the first starts at the first');
  await j2.close();
  await j2.close();
  t.pass('close() twice is safe');
  await t.rejects(j2.append(event(5)), 'a closed journal takes no more events');
});

t.test('a torn last line (crash mid-write) is dropped and repaired, not fatal', async (t) => {
  const dir = tempDir();
  const j = await AlertJournal.open({ dir, maxBytes: 1 << 20 }, log);
  await j.append(event(1));
  await j.append(event(2));
  await j.close();
  appendFileSync(`${dir}/alerts.jsonl`, '{"v":1,"seq":3,"type":"rai');
  const j2 = await AlertJournal.open({ dir, maxBytes: 1 << 20 }, log);
  t.equal(j2.seq, 2, 'the torn event is not counted');
  t.ok(readFileSync(`${dir}/alerts.jsonl`, 'utf8').endsWith('}\n'), 'the file ends on a whole line again');
  t.equal((await j2.append(event(3))).seq, 3);
  await j2.close();
});

t.test('the journal rotates when it grows past its bound and keeps the previous file', async (t) => {
  const dir = tempDir();
  const j = await AlertJournal.open({ dir, maxBytes: 1000 }, log);
  for (let i = 1; i <= 30; i++) await j.append(event(i));
  t.ok(statSync(`${dir}/alerts.jsonl`).size <= 1300, 'current file stays near the bound');
  t.ok(statSync(`${dir}/alerts.1.jsonl`).size > 0, 'previous file kept');
  const kept = j.since(0, 500).events.map((e) => e.seq);
  t.equal(kept.at(-1), 30);
  t.ok(
    kept.every((s, i) => i === 0 || s === kept[i - 1] + 1),
    'what is kept is contiguous',
  );
  await j.close();
  const j2 = await AlertJournal.open({ dir, maxBytes: 1000 }, log);
  t.equal(j2.seq, 30, 'seq survives rotation and restart');
  await j2.close();
});

const onDisk = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { seq: number }).seq);

t.test('memory holds exactly what is on disk across rotations; the bound is "more than maxBytes"', async (t) => {
  const dir = tempDir();
  const line = Buffer.byteLength(JSON.stringify({ ...event(1), seq: 1 }) + '\n');
  // Room for exactly three lines of this size: the third fills the file to the bound, no rotation.
  const j = await AlertJournal.open({ dir, maxBytes: 3 * line }, log);
  for (let i = 1; i <= 3; i++) await j.append(event(i));
  t.same(onDisk(`${dir}/alerts.jsonl`), [1, 2, 3], 'a file exactly at the bound is not rotated');
  await j.append(event(4));
  t.same(onDisk(`${dir}/alerts.1.jsonl`), [1, 2, 3, 4], 'past the bound it is');
  t.same(readFileSync(`${dir}/alerts.jsonl`, 'utf8'), '', 'and a new one started');
  for (let i = 5; i <= 9; i++) await j.append(event(i));
  // Two rotations: 1–4 went when 5–8 were rotated; 9 is in the current file.
  t.same(onDisk(`${dir}/alerts.1.jsonl`), [5, 6, 7, 8]);
  t.same(onDisk(`${dir}/alerts.jsonl`), [9]);
  t.same(
    j.since(0, 100).events.map((e) => e.seq),
    [5, 6, 7, 8, 9],
    'memory matches the two files',
  );
  t.same(j.since(0, 5).more, false, 'a page of exactly what is left has no more');
  t.same(j.since(0, 4).more, true);
  await j.close();
  const j2 = await AlertJournal.open({ dir, maxBytes: 3 * line }, log);
  t.same(
    j2.since(0, 100).events.map((e) => e.seq),
    [5, 6, 7, 8, 9],
    'and so does a reopened journal',
  );
  await j2.close();
});

t.test('a bad line is skipped, a torn line in the previous file is left as it is', async (t) => {
  const dir = tempDir();
  const lines = (seqs: number[]) => seqs.map((s) => JSON.stringify({ ...event(s), seq: s }) + '\n').join('');
  const previous = lines([1, 2]) + '{"v":1,"seq":3,"ty';
  writeFileSync(`${dir}/alerts.1.jsonl`, previous);
  writeFileSync(`${dir}/alerts.jsonl`, lines([4]) + 'not json\n' + lines([5]));
  const j = await AlertJournal.open({ dir, maxBytes: 1 << 20 }, log);
  t.same(
    j.since(0, 100).events.map((e) => e.seq),
    [1, 2, 4, 5],
    'the torn and the non-JSON line are skipped',
  );
  t.equal(j.seq, 5);
  t.equal(readFileSync(`${dir}/alerts.1.jsonl`, 'utf8'), previous, 'the previous file is never rewritten');
  t.equal((await j.append(event(6))).seq, 6);
  await j.close();
});
