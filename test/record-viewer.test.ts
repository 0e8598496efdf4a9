import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { type Browser } from 'playwright-core';
import { LumenClient, type LumenMessage } from '../runtime/client/client.js';
import { createLogger } from '../runtime/log.js';
import { TOPICS, type AlertHeader, type ClipHeader } from '../runtime/publish/protocol.js';
import { ViewServer } from '../runtime/view/view-server.js';
import { endpoints, freePort, logOnFailure, lumen, stop, tempDir, waitFor, writeConfig } from './helpers/daemon.js';
import { launchChromium } from './helpers/chromium.js';
import { shortDemoFeed } from './helpers/feeds.js';
import { runLumen } from './helpers/qa-feeds.js';

t.test('the viewer names the clip of each past alert, and links it where the clips are', async (t) => {
  const feed = await shortDemoFeed();
  const dir = tempDir('lumen-view-');
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: true },
    publish: { ...ep, statusIntervalMs: 250 },
    metrics: { enabled: false },
    state: { dir: join(dir, 'state') },
    record: { clips: { preRollS: 1, postRollS: 1 } },
  });
  const daemon = lumen(['run', '--config', config]);
  const rec = join(dir, 'state', 'recordings');
  const view = await ViewServer.start({ ...ep, port: await freePort(), recordings: rec, log: createLogger('view-test', 'warn') });
  const client = new LumenClient({ ...ep, topics: [TOPICS.alert, TOPICS.clip] });
  let browser: Browser | undefined;
  t.teardown(async () => {
    client.close();
    await browser?.close().catch(() => {});
    await view.close();
    logOnFailure(t, daemon);
    await stop(daemon);
  });
  browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(view.url);
  const raise = (await waitFor<LumenMessage>(client, (m) => m.topic === TOPICS.alert && m.header.type === 'raise', 90_000, 'a raise')).header as AlertHeader;
  t.ok(raise.clip, 'the raise names its clip');
  const clip = page.locator('#alerts li.raise .clip', { hasText: raise.clip!.id });
  await clip.first().waitFor({ timeout: 30_000 });
  t.equal((await clip.first().textContent())?.trim(), `clip ${raise.clip!.id}`, 'the alert list shows the clip by its id');
  t.match(
    await clip.first().getAttribute('title'),
    new RegExp(`recordings/clips/${raise.clip!.id}\\.mkv.*lumen clips export ${raise.clip!.id}`),
    'its title gives the path and how to export it',
  );
  t.equal(await clip.first().getAttribute('href'), `clips/${raise.clip!.id}`, 'and it links the clip on this viewer');

  const done = (await waitFor<LumenMessage>(client, (m) => m.topic === TOPICS.clip && m.header.clip.id === raise.clip!.id, 60_000, 'the clip finished'))
    .header as ClipHeader;
  const res = await fetch(new URL(`clips/${raise.clip!.id}`, view.url));
  t.equal(res.status, 200, 'the link serves the finished clip');
  t.equal(res.headers.get('content-type'), 'video/x-matroska');
  t.match(res.headers.get('content-disposition'), `attachment; filename="${raise.clip!.id}.mkv"`, 'as a download named for the clip');
  t.ok(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(rec, done.clip.path))), 'byte for byte the file the recorder wrote');
  const unknown = await fetch(new URL('clips/clip-20000101T000000Z-e9', view.url));
  t.equal(unknown.status, 404, 'a clip never recorded: 404');
  t.match(await unknown.text(), /^CLIP_UNKNOWN: /, 'naming the error code');
  const escape = await fetch(new URL('clips/..%2F..%2Fconfig.yaml', view.url));
  t.equal(escape.status, 404, 'a path instead of an id is not a recording');
});

t.test('lumen view refuses a state folder without recordings, naming it', async (t) => {
  const dir = tempDir('lumen-view-');
  const r = await runLumen(['view', '--state-dir', join(dir, 'absent'), '--port', '0']);
  t.equal(r.code, 2, 'exit 2');
  t.match(r.stderr, `USAGE: --state-dir: no recordings folder at ${join(dir, 'absent', 'recordings')}`);
});
