import t from 'tap';
import { writeFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { createLogger } from '../runtime/log.js';
import { isLoopbackHost } from '../runtime/view/view-auth.js';
import { ViewServer } from '../runtime/view/view-server.js';
import { endpoints, logOnFailure, lumen, stop, tempDir, type Child } from './helpers/daemon.js';

const log = createLogger('view-auth-test', 'silent');
const TOKEN = 'Zq3v_9-kTf8pLw2xYc7RbN4mHs6dJa1u';

/** Opens a WebSocket; resolves 'open' or the HTTP status of the refusal. */
function wsOutcome(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
    ws.on('error', reject);
  });
}

/** Waits for `lumen view` to print its address. */
async function viewUrl(c: Child): Promise<string> {
  const end = Date.now() + 60_000;
  for (;;) {
    const m = /open (http:\/\/\S+)/.exec(c.stdout());
    if (m) return m[1];
    if (c.proc.exitCode !== null) throw new Error(`lumen view exited ${c.proc.exitCode}: ${c.stderr()}`);
    if (Date.now() > end) throw new Error('timed out after 60000 ms waiting for lumen view to print its address');
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('which hosts keep the viewer on this machine', async (t) => {
  for (const h of ['127.0.0.1', '127.0.1.1', '::1', 'localhost']) t.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '192.168.1.20', 'appliance.local', '127.0.0.1.nip.io']) t.notOk(isLoopbackHost(h), h);
});

t.test('a viewer with a token: 401 and a refused WebSocket without it; the link sets a cookie that opens both', async (t) => {
  const dir = tempDir();
  writeFileSync(`${dir}/token`, `${TOKEN}\n`);
  const ep = await endpoints();
  const view = lumen(['view', '--endpoint', ep.endpoint, '--history', ep.historyEndpoint, '--port', '0', '--token-file', `${dir}/token`]);
  t.teardown(async () => {
    logOnFailure(t, view, 'lumen view');
    await stop(view);
  });
  const base = await viewUrl(view);
  t.notMatch(view.stdout(), TOKEN, 'a token given in a file is not printed');
  const ws = base.replace(/^http/, 'ws') + 'ws';

  const bare = await fetch(base);
  t.equal(bare.status, 401, 'the page without a credential: 401');
  t.equal(bare.headers.get('www-authenticate'), 'Bearer realm="lumen-view"');
  t.equal((await fetch(`${base}healthz`)).status, 401, 'health too');
  t.equal((await fetch(`${base}?token=${TOKEN.slice(0, -1)}x`, { redirect: 'manual' })).status, 401, 'a wrong token: 401');
  t.equal((await fetch(base, { headers: { cookie: `lumen_view=${TOKEN}x` } })).status, 401, 'a wrong cookie: 401');
  t.equal(await wsOutcome(ws), '401', 'the WebSocket without a credential is refused with 401');

  t.equal((await fetch(`${base}healthz`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200, 'a bearer token is accepted');
  const link = await fetch(`${base}?token=${TOKEN}`, { redirect: 'manual' });
  t.equal(link.status, 303, 'the link redirects');
  t.equal(link.headers.get('location'), '/', 'to an address without the token');
  const cookie = link.headers.get('set-cookie') ?? '';
  t.match(cookie, /^lumen_view=[^;]+; HttpOnly; SameSite=Strict; Path=\//, 'an HttpOnly, SameSite=Strict cookie');
  const pair = cookie.split(';')[0];
  const page = await fetch(base, { headers: { cookie: pair } });
  t.equal(page.status, 200, 'the page with the cookie');
  t.match(await page.text(), /<html/i);
  t.equal(await wsOutcome(ws, { cookie: pair }), 'open', 'the WebSocket with the cookie opens');
  t.equal(await wsOutcome(ws, { authorization: `Bearer ${TOKEN}` }), 'open', 'and with a bearer token');
});

t.test('on loopback without a token the viewer stays open', async (t) => {
  const ep = await endpoints();
  const view = await ViewServer.start({ endpoint: ep.endpoint, historyEndpoint: ep.historyEndpoint, port: 0, log });
  t.teardown(() => view.close());
  t.equal((await fetch(view.url)).status, 200, 'the page');
  t.equal(await wsOutcome(`${view.url.replace(/^http/, 'ws')}ws`), 'open', 'the WebSocket');
});

t.test('a short or malformed token is refused with VIEW_TOKEN before anything listens', async (t) => {
  const dir = tempDir();
  writeFileSync(`${dir}/short`, 'abc123\n');
  // 192.0.2.1 (TEST-NET-1) is on no interface here: a regression would fail to bind, never open a port.
  const cases: [string, string[], NodeJS.ProcessEnv][] = [
    ['a 6-character token file', ['--token-file', `${dir}/short`], {}],
    ['a 31-character LUMEN_VIEW_TOKEN', [], { LUMEN_VIEW_TOKEN: TOKEN.slice(1) }],
    ['a token with a space', [], { LUMEN_VIEW_TOKEN: `${TOKEN} x` }],
    ['a missing token file', ['--token-file', `${dir}/none`], {}],
  ];
  const runs = cases.map(([, args, env]) => lumen(['view', '--host', '192.0.2.1', '--port', '0', ...args], env));
  for (const [i, [what]] of cases.entries()) {
    const e = await runs[i].exited;
    t.equal(e.code, 2, `${what}: exit 2`);
    t.match(runs[i].stderr(), /lumen: VIEW_TOKEN: /, `${what}: VIEW_TOKEN`);
    t.notMatch(runs[i].stdout(), /open http/, `${what}: nothing listened`);
  }
});
