import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { LumenClient, type LumenMessage } from '../runtime/client/client.js';
import { TOPICS, type AlertHeader, type ClipInfo } from '../runtime/publish/protocol.js';
import { endpoints, logOnFailure, lumen, stop, tempDir, waitFor, writeConfig, type Child } from './helpers/daemon.js';
import { shortDemoFeed } from './helpers/feeds.js';
import { runLumen } from './helpers/qa-feeds.js';
import { decodeRecording } from './helpers/recordings.js';

const record = (rec: string, c: { path: string }) => JSON.parse(readFileSync(join(rec, c.path.replace(/\.mkv$/, '.json')), 'utf8')) as ClipInfo;

t.test(
  'SIGKILL while recording: closed segments and clips play, the cut ones are found incomplete at start and not offered as complete; retention deletes an old clip',
  async (t) => {
    const feed = await shortDemoFeed();
    const dir = tempDir();
    const state = join(dir, 'state');
    const rec = join(state, 'recordings');
    const ep = await endpoints();
    const config = writeConfig(dir, {
      capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: true },
      publish: { ...ep, statusIntervalMs: 250 },
      metrics: { enabled: false },
      state: { dir: state },
      record: { clips: { preRollS: 2, postRollS: 2 }, segments: { enabled: true, seconds: 10 } },
    });
    const children: Child[] = [];
    const clients: LumenClient[] = [];
    t.teardown(async () => {
      for (const c of clients) c.close();
      for (const c of children) {
        logOnFailure(t, c);
        await stop(c);
      }
    });
    // A client that joins after the daemon published gets the alerts after `catchUpAfter` from history.
    const start = (catchUpAfter?: number) => {
      const d = lumen(['run', '--config', config]);
      const c = new LumenClient({ ...ep, topics: [TOPICS.alert, TOPICS.clip], catchUpAfter });
      children.push(d);
      clients.push(c);
      return { d, c };
    };

    const first = start();
    const done: ClipInfo[] = [];
    let cut: AlertHeader | null = null;
    // Killed while the second alert's clip and a segment are being written, after a clip and a segment were closed.
    await waitFor<LumenMessage>(
      first.c,
      (m) => {
        if (m.topic === TOPICS.clip) done.push(m.header.clip);
        if (m.topic === TOPICS.alert && m.header.type === 'raise' && done.some((c) => c.kind === 'clip') && done.some((c) => c.kind === 'segment'))
          cut = m.header;
        return cut !== null;
      },
      120_000,
      'a closed clip and segment, then a raise',
    );
    first.d.proc.kill('SIGKILL');
    const killed = await first.d.exited;
    t.equal(killed.signal, 'SIGKILL', 'the daemon was killed');
    const cutClip = (cut as AlertHeader | null)!.clip!;

    for (const c of done) {
      t.equal(c.state, 'complete', `${c.kind} ${c.id} was closed before the kill`);
      t.equal(await decodeRecording(join(rec, c.path)), c.frames, `${c.id} still decodes to its ${c.frames} frames`);
    }
    t.equal(record(rec, cutClip).state, 'recording', 'the clip being written is on disk as "recording"');
    // A clip retention must delete at the next start: the first one, as if recorded 40 days ago.
    const old = done.find((c) => c.kind === 'clip')!;
    const oldId = 'clip-20200101T000000Z-e99';
    const oldRec = { ...old, id: oldId, path: `clips/${oldId}.mkv`, sidecar: `clips/${oldId}.annotations.json`, createdAt: Date.now() - 40 * 24 * 3600_000 };
    copyFileSync(join(rec, old.path), join(rec, oldRec.path));
    writeFileSync(join(rec, 'clips', `${oldId}.json`), JSON.stringify(oldRec));

    const second = start((cut as AlertHeader | null)!.seq);
    const restartClear = await waitFor<LumenMessage>(
      second.c,
      (m) => m.topic === TOPICS.alert && m.header.type === 'clear' && m.header.reason === 'restart',
      60_000,
      'the restart clear',
    );
    t.same((restartClear.header as AlertHeader).clip, cutClip, 'the restart clear names the clip the killed run was writing');
    const incomplete = await second.c.clip(cutClip.id);
    t.match(incomplete, { state: 'incomplete', endReason: 'crash' }, 'found at start and marked incomplete');
    t.equal(record(rec, cutClip).state, 'incomplete', 'on disk too');
    t.equal((await second.c.clip(old.id)).state, 'complete', 'the clip closed before the kill is still complete');
    const segments = (JSON.parse((await runLumen(['clips', 'list', '--json', '--state-dir', state])).stdout) as { recordings: ClipInfo[] }).recordings.filter(
      (r) => r.kind === 'segment',
    );
    t.ok(
      segments.some((s) => s.state === 'complete') && segments.some((s) => s.state === 'incomplete' && s.endReason === 'crash'),
      `segments: the closed one complete, the open one incomplete (${segments.map((s) => s.state).join(', ')})`,
    );

    const refused = await runLumen(['clips', 'export', cutClip.id, '--out', join(dir, 'cut.tar'), '--state-dir', state]);
    t.equal(refused.code, 2, 'exporting the cut clip is refused');
    t.match(refused.stderr, /CLIP_INCOMPLETE: recording .* is incomplete/, 'as incomplete, named');
    t.notOk(existsSync(join(dir, 'cut.tar')), 'and nothing is written');
    t.equal(
      (await runLumen(['clips', 'export', cutClip.id, '--out', join(dir, 'cut.tar'), '--state-dir', state, '--incomplete'])).code,
      0,
      'unless asked for with --incomplete',
    );

    await t.rejects(
      second.c.clip(oldId),
      { code: 'CLIP_DELETED', message: /deleted by retention \(age\)/ },
      'a 40-day-old clip was deleted by retention: CLIP_DELETED',
    );
    t.notOk(existsSync(join(rec, oldRec.path)), 'its video is gone');
    const gone = await runLumen(['clips', 'export', oldId, '--out', join(dir, 'old.tar'), '--state-dir', state]);
    t.match(gone.stderr, /CLIP_DELETED/, 'export says it was deleted');
    const journal = readFileSync(join(state, 'alerts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AlertHeader);
    t.ok(
      journal.some((a) => a.type === 'raise' && a.clip?.id === old.id) && journal.some((a) => a.type === 'raise' && a.clip?.id === cutClip.id),
      'the journal still names both clips',
    );
  },
);
