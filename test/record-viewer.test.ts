import { join } from 'node:path';
import t from 'tap';
import { type Browser } from 'playwright-core';
import { LumenClient, type LumenMessage } from '../runtime/client/client.js';
import { createLogger } from '../runtime/log.js';
import { TOPICS, type AlertHeader } from '../runtime/publish/protocol.js';
import { ViewServer } from '../runtime/view/view-server.js';
import { endpoints, freePort, logOnFailure, lumen, stop, tempDir, waitFor, writeConfig } from './helpers/daemon.js';
import { launchChromium } from './helpers/chromium.js';
import { shortDemoFeed } from './helpers/feeds.js';

t.test('the viewer names the clip of each past alert', async (t) => {
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
  const view = await ViewServer.start({ ...ep, port: await freePort(), log: createLogger('view-test', 'warn') });
  const client = new LumenClient({ ...ep, topics: [TOPICS.alert] });
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
});
