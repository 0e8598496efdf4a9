import { request } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { type Browser, type Page } from 'playwright-core';
import { WebSocket, type RawData } from 'ws';
import { createLogger } from '../runtime/log.js';
import { ViewServer } from '../runtime/view/view-server.js';
import { endpoints, freePort, logOnFailure, lumen, ROOT, stop, tempDir, writeConfig, type Child } from './helpers/daemon.js';
import { launchChromium } from './helpers/chromium.js';
import { shortDemoFeed } from './helpers/feeds.js';

const ARTEFACTS = join(ROOT, '.tap', 'artefacts');

const log = createLogger('view-test', 'warn');

interface PageState {
  link: string;
  alert: boolean;
  alerts: number;
  audio: string;
  muted: boolean;
  beeps: number;
  frameId: number | null;
  /** The quality-gate notice shown, or null. */
  gate: string | null;
  /** The alert-history notice shown, or null. */
  history: string | null;
  transitions: { link: string; at: number; lastOverlayAt: number }[];
}
interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface Geometry {
  canvas: { width: number; height: number };
  image: Rect;
  roi: Rect | null;
  box: Rect | null;
  /** The outlines as drawn, in canvas pixels (flat x, y pairs). */
  contours: number[][];
  frameId: number;
  preview: boolean;
}
interface ViewApi {
  state(): PageState;
  stats(): { count: number; p50: number | null; p99: number | null; max: number | null; drawn: number; decodeSkipped: number };
  geometry(): Geometry | null;
}
declare global {
  interface Window {
    lumenView: ViewApi;
  }
}

/** A WebSocket message's text. */
function wsText(d: RawData): string {
  return (Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d)).toString('utf8');
}

/** Waits until the page's link state is one of `links`. */
async function waitLink(page: Page, links: string[], ms: number): Promise<void> {
  try {
    await page.waitForFunction((ls) => ls.includes(window.lumenView.state().link), links, { timeout: ms, polling: 50 });
  } catch (err) {
    const state = await page.evaluate(() => window.lumenView.state()).catch(() => null);
    throw new Error(
      `page link state never became ${links.join('|')} within ${ms} ms (now ${JSON.stringify(state?.link)}): ${(err as Error).message.split('\n')[0]}`,
    );
  }
}

/** Counts the contour's green pixels on the canvas, with the geometry of the same drawing. */
function readContour(page: Page) {
  return page.evaluate(() => {
    const g = window.lumenView.geometry();
    const c = document.getElementById('view') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    let outsideImage = 0;
    let outsideRoi = 0;
    const bbox = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
    const inside = (r: { x: number; y: number; width: number; height: number } | null, x: number, y: number, tol: number) =>
      !!r && x >= r.x - tol && y >= r.y - tol && x <= r.x + r.width + tol && y <= r.y + r.height + tol;
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        const i = (y * c.width + x) * 4;
        const r = d[i];
        const gr = d[i + 1];
        const b = d[i + 2];
        // The overlay's contour is (60, 255, 120); box (red/amber) and heatmap (yellow→red) are not green.
        if (gr < 170 || gr - r < 80 || gr - b < 50) continue;
        n++;
        if (!inside(g && g.image, x, y, 1)) outsideImage++;
        if (!inside(g && g.roi, x, y, 2)) outsideRoi++;
        bbox.x0 = Math.min(bbox.x0, x);
        bbox.y0 = Math.min(bbox.y0, y);
        bbox.x1 = Math.max(bbox.x1, x);
        bbox.y1 = Math.max(bbox.y1, y);
      }
    }
    return { n, outsideImage, outsideRoi, bbox, geometry: g, state: window.lumenView.state() };
  });
}

function get(url: string, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string; csp: string }> {
  return new Promise((resolve, reject) => {
    // A raw path, not a URL: '/../x' must reach the server as it is.
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () =>
        resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body, csp: String(res.headers['content-security-policy']) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('viewer server: serves only its page files, refuses foreign WebSocket origins, closes twice', async (t) => {
  const ep = await endpoints(); // nothing listens there: the page must still be served
  const view = await ViewServer.start({ endpoint: ep.endpoint, historyEndpoint: ep.historyEndpoint, port: 0, log });
  t.teardown(() => view.close());
  t.match(view.url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'listens on 127.0.0.1 by default');

  const index = await get(view.url, '/');
  t.equal(index.status, 200);
  t.match(index.type, /^text\/html/);
  t.match(index.body, /<canvas id="view"/, 'the page has its canvas');
  t.match(index.csp, /default-src 'self'/, 'the page may load nothing from elsewhere');
  t.match((await get(view.url, '/app.js')).type, /^text\/javascript/);
  t.match((await get(view.url, '/style.css')).type, /^text\/css/);
  t.equal((await get(view.url, '/../package.json')).status, 404, 'no path outside the page files');
  t.equal((await get(view.url, '/view-server.ts')).status, 404, 'no source files');
  t.equal((await get(view.url, '/', 'POST')).status, 405);
  const health = JSON.parse((await get(view.url, '/healthz')).body) as { ok: boolean; daemon: { endpoint: string } };
  t.equal(health.ok, true);
  t.equal(health.daemon.endpoint, ep.endpoint);

  const wsUrl = view.url.replace('http', 'ws') + 'ws';
  const refused = await new Promise<string>((resolve) => {
    const ws = new WebSocket(wsUrl, { origin: 'http://evil.example' });
    ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
    ws.on('open', () => resolve('open'));
    ws.on('error', (e) => resolve(e.message));
  });
  t.equal(refused, '403', 'a page from another origin cannot subscribe');
  const hello = await new Promise<{ type: string }>((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { origin: view.url.replace(/\/$/, '') });
    ws.on('message', (d) => {
      resolve(JSON.parse(wsText(d)) as { type: string });
      ws.close();
    });
    ws.on('error', reject);
  });
  t.equal(hello.type, 'hello', 'a same-origin page gets the hello snapshot');

  await Promise.all([view.close(), view.close()]);
  await view.close();
  t.pass('close() is idempotent');
});

t.test('the viewer says when the alert history cannot be read, and clears it once it can', async (t) => {
  // The viewer starts before the daemon: its catch-up on the history endpoint gets no answer.
  const ep = await endpoints();
  const view = await ViewServer.start({ ...ep, port: 0, log });
  const dir = tempDir('lumen-view-history-');
  let daemon: Child | undefined;
  let browser: Browser | undefined;
  t.teardown(async () => {
    await browser?.close().catch(() => {});
    await view.close();
    if (daemon) {
      logOnFailure(t, daemon);
      await stop(daemon);
    }
  });
  const ws = new WebSocket(view.url.replace('http', 'ws') + 'ws', { origin: view.url.replace(/\/$/, '') });
  t.teardown(() => ws.close());
  const messages: { type: string; failure?: { code: string; attempt: number } | null }[] = [];
  // Text messages only: once the daemon runs, overlays come as binary frames.
  ws.on('message', (d, binary) => !binary && messages.push(JSON.parse(wsText(d)) as (typeof messages)[number]));
  const until = async (what: string, pred: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; !pred(); await new Promise((r) => setTimeout(r, 50)))
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  };
  await until('a history failure on the page socket', () => messages.some((m) => m.type === 'history' && m.failure), 30_000);
  const failed = messages.find((m) => m.type === 'history' && m.failure)!;
  t.equal(failed.failure?.code, 'HISTORY_UNAVAILABLE', 'pages are told the history is unavailable, with the code');

  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(view.url);
  // A page that connects after the failure learns it from its hello.
  await page.waitForFunction(() => window.lumenView.state().history !== null, undefined, { timeout: 30_000 });
  t.ok(await page.isVisible('#history'), 'the alert panel shows the notice');
  t.match(
    await page.textContent('#history'),
    /^Alert history unavailable \(HISTORY_UNAVAILABLE\): alerts from before now may be missing; retrying in \d+ s$/,
    'saying why and that it retries',
  );

  // The daemon comes up on those endpoints: the next retry reads the history, the notice goes.
  daemon = lumen(['run', '--config', writeConfig(dir, { publish: ep, inference: { providers: ['cpu'] }, state: { dir: join(dir, 'state') } })]);
  await until('a history recovery on the page socket', () => messages.some((m) => m.type === 'history' && m.failure === null), 90_000);
  await page.waitForFunction(() => window.lumenView.state().history === null, undefined, { timeout: 30_000 });
  t.notOk(await page.isVisible('#history'), 'the notice goes once the history answers');
});

t.test('lumen view command: prints its address, serves the page, exits 0 on SIGTERM; refuses a bad port', async (t) => {
  const ep = await endpoints();
  const bad = lumen(['view', '--port', 'http']);
  const b = await bad.exited;
  t.equal(b.code, 2, 'a bad --port is a refused input (exit 2)');
  t.match(bad.stderr(), /USAGE: --port http is not a port number/);

  const view = lumen(['view', '--port', '0', '--endpoint', ep.endpoint, '--history', ep.historyEndpoint]);
  t.teardown(() => stop(view));
  for (const until = Date.now() + 30_000; !/open http/.test(view.stdout()) && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
  const url = /open (http:\/\/\S+)/.exec(view.stdout())?.[1];
  t.ok(url, `the command prints the page's address (${url})`);
  const index = await get(url!, '/');
  t.equal(index.status, 200, 'the page is served');
  const s = await stop(view);
  t.equal(s.code, 0, 'SIGTERM exits 0');
  t.ok(s.ms < 3000, `within its shutdown deadline (${s.ms} ms), even with a history request in flight`);
});

t.test('lumen view in Chromium: overlay, gate reason, alert banner, signal lost and recovery, overlay→draw delay', async (t) => {
  const feed = await shortDemoFeed();
  const dir = tempDir('lumen-view-');
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: true },
    inference: { providers: ['cpu'] },
    publish: { ...ep, statusIntervalMs: 250 },
    state: { dir: join(dir, 'state') },
  });
  let daemon: Child = lumen(['run', '--config', config]);
  const viewPort = await freePort();
  let view = await ViewServer.start({ ...ep, port: viewPort, log });
  let browser: Browser | undefined;
  t.teardown(async () => {
    await browser?.close().catch(() => {});
    await view.close();
    logOnFailure(t, daemon);
    await stop(daemon);
  });

  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  await page.goto(view.url);
  mkdirSync(ARTEFACTS, { recursive: true });

  await waitLink(page, ['live'], 90_000);
  t.pass('overlays arrive: the page is live');
  t.equal(await page.textContent('#noalert'), 'No alert', 'the alert bar says "No alert" before the episode');
  t.notOk(await page.isVisible('#lost'), 'no signal-lost notice while frames arrive');

  // The demo's heavy bleeding (about a second of every 12 s loop): the page says the frames are
  // ungradable and why, with the share of the picture under blood, and raises no alert.
  // State and notice read in the same turn as the condition: a short streak of gated frames may
  // end before a second round trip.
  const seen = await page.waitForFunction(
    () => {
      const state = window.lumenView.state();
      const gate = document.getElementById('gate')!;
      return /bleeding/.test(state.gate ?? '') ? { state, text: gate.textContent, shown: !gate.hidden } : null;
    },
    undefined,
    { timeout: 90_000, polling: 20 },
  );
  const bleeding = (await seen.jsonValue())!;
  t.ok(bleeding.shown, 'the gate notice is shown');
  const share = /^Ungradable: bleeding (\d+)\u00a0%$/.exec(bleeding.text ?? '');
  t.ok(share && Number(share[1]) >= 50, `the notice names bleeding and the share of the picture it hides (${JSON.stringify(bleeding.text)})`);
  t.equal(bleeding.state.alert, false, 'no alert while blood fills the view');
  await page.screenshot({ path: join(ARTEFACTS, 'viewer-ungradable.png') });
  await page.waitForFunction(() => window.lumenView.state().gate === null, undefined, { timeout: 30_000, polling: 20 });
  t.notOk(await page.isVisible('#gate'), 'the notice goes once frames are gradable again');

  // Sound needs a user gesture: the page offers a button, and after the click it can beep.
  t.ok(await page.isVisible('#sound'), 'the page offers to enable sound');
  await page.click('#sound');
  await page.waitForFunction(() => window.lumenView.state().audio === 'running', undefined, { timeout: 10_000 }).catch(() => {});
  const audio = (await page.evaluate(() => window.lumenView.state())).audio;
  t.comment(`audio context after the click: ${audio}`);

  // Wait for a live raise (the feed loops: a lesion episode comes round every 12 s).
  await page.waitForFunction(() => window.lumenView.state().alert, undefined, { timeout: 90_000, polling: 50 });
  t.ok(await page.isVisible('#banner'), 'the alert banner shows during the lesion episode');
  t.match(await page.textContent('#banner'), /LESION ALERT/);

  // The contour: drawn from the overlay's geometry, green pixels inside the drawn image, inside
  // the ROI the models saw, on the lesion box, and where the outline's points say.
  let contour = await readContour(page);
  for (const until = Date.now() + 30_000; (contour.n < 30 || !contour.geometry?.box) && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 100));
    contour = await readContour(page);
  }
  const g = contour.geometry!;
  t.ok(contour.n >= 30, `the contour is drawn (${contour.n} green pixels, frame ${g?.frameId})`);
  t.ok(g.box, 'the overlay drawn carries a lesion box');
  t.equal(contour.outsideImage, 0, 'no contour pixel outside the image area');
  t.equal(contour.outsideRoi, 0, 'no contour pixel outside the ROI');
  const img = g.image;
  t.ok(Math.abs(img.width / img.height - 320 / 240) < 0.01, `the image keeps its aspect ratio (${img.width.toFixed(0)}×${img.height.toFixed(0)})`);
  t.ok(img.width >= g.canvas.width - 2 || img.height >= g.canvas.height - 2, 'the image fills the canvas on one axis');
  const b = contour.bbox;
  const box = g.box!;
  const overlaps = b.x0 <= box.x + box.width && b.x1 >= box.x && b.y0 <= box.y + box.height && b.y1 >= box.y;
  t.ok(overlaps, 'the contour lies at the lesion box');
  const xs = g.contours.flatMap((p) => p.filter((_, i) => i % 2 === 0));
  const ys = g.contours.flatMap((p) => p.filter((_, i) => i % 2 === 1));
  const tol = 4;
  t.ok(
    b.x0 >= Math.min(...xs) - tol && b.x1 <= Math.max(...xs) + tol && b.y0 >= Math.min(...ys) - tol && b.y1 <= Math.max(...ys) + tol,
    'the green pixels lie on the outline the message carried',
  );

  const shot = join(ARTEFACTS, 'viewer-alert.png');
  await page.screenshot({ path: shot });
  t.comment(`screenshot during the alert: ${shot}`);

  const stAlert = await page.evaluate(() => window.lumenView.state());
  t.ok(stAlert.alerts >= 1, 'the alert list has the raise');
  await t.resolves(
    page.waitForFunction(() => document.querySelectorAll('#alerts li.raise').length >= 1, undefined, { timeout: 5000 }),
    'the raise is listed',
  );
  t.equal(audio, 'running', 'sound is on after the click');
  await page.waitForFunction(() => window.lumenView.state().beeps >= 1, undefined, { timeout: 60_000 });
  t.pass('a live raise beeps');
  const statusText = await page.textContent('#status');
  t.match(statusText, /FPS/, 'status shows fps');
  t.match(statusText, /classifier cpu/, 'status shows the provider');
  t.match(statusText, /ref-classifier/, 'status shows the models');

  // Enough overlays for a p99 that is not just the maximum of a few.
  await page.waitForFunction(() => window.lumenView.stats().count >= 200, undefined, { timeout: 90_000 });
  const delay = await page.evaluate(() => window.lumenView.stats());
  t.comment(
    `overlay publication → drawn: p50 ${delay.p50} ms, p99 ${delay.p99} ms, max ${delay.max} ms over ${delay.count} overlays (decode skipped ${delay.decodeSkipped})`,
  );
  t.ok(delay.count >= 200, 'delay measured over many overlays');
  t.ok(delay.p50 !== null && delay.p50 >= 0 && delay.p50 < 1000, `overlay→draw p50 is plausible (${delay.p50} ms)`);

  // Daemon gone: the page says so within about a second of the last overlay.
  const stopped = await stop(daemon);
  t.equal(stopped.code, 0, 'the daemon stops on SIGTERM');
  await waitLink(page, ['lost', 'unreachable'], 10_000);
  const st = await page.evaluate(() => window.lumenView.state());
  const gone = st.transitions.filter((x) => x.link === 'lost' || x.link === 'unreachable').at(-1)!;
  const detectMs = gone.at - gone.lastOverlayAt;
  t.comment(`signal lost shown ${detectMs} ms after the last overlay`);
  // Not before the page's 1 s limit (a hiccup is not a lost signal); the upper bound is loose,
  // as Chromium, the daemon and the tests share two loaded cores.
  t.ok(detectMs >= 1000 && detectMs < 5000, `signal lost appears ~1 s after frames stop (${detectMs} ms)`);
  t.ok(await page.isVisible('#lost'), 'the signal-lost notice is visible');
  t.notOk(await page.isVisible('#banner'), 'no alert banner without frames (the decision is not current)');
  t.match(await page.textContent('#noalert'), /unknown/, 'the alert bar says the alert state is unknown');
  await waitLink(page, ['unreachable'], 10_000);
  t.match(await page.textContent('#lost-title'), /DAEMON UNREACHABLE/, 'no status either: daemon unreachable');
  await page.screenshot({ path: join(ARTEFACTS, 'viewer-unreachable.png') });

  // Same ports, same state: the page recovers by itself.
  daemon = lumen(['run', '--config', config]);
  await waitLink(page, ['live'], 90_000);
  t.notOk(await page.isVisible('#lost'), 'the notice clears when frames return');

  // The viewer itself goes away: the page shows it and reconnects its WebSocket on its own.
  await view.close();
  await waitLink(page, ['disconnected'], 5000);
  t.match(await page.textContent('#lost-title'), /VIEWER DISCONNECTED/);
  view = await ViewServer.start({ ...ep, port: viewPort, log });
  await waitLink(page, ['live'], 30_000);
  t.pass('the page reconnected to a restarted viewer');
  t.same(pageErrors, [], 'no script errors in the page');
});
