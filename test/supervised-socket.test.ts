import t from 'tap';
import { createLogger } from '../runtime/log.js';
import { SupervisedSocket } from '../runtime/publish/supervised-socket.js';
import { bindHistory, bindPublisher, connectRequest, type Router } from '../runtime/publish/zmq.js';
import { freePort } from './helpers/daemon.js';

const log = createLogger('test', 'silent');

/** Answers "ping" with "pong"; "boom" makes the loop throw, as a broken socket would. */
async function pingPong(s: Router): Promise<void> {
  for await (const [peer, delimiter, body] of s) {
    if (body.toString() === 'boom') throw new Error('boom');
    await s.send([peer, delimiter, 'pong']);
  }
}

async function ask(endpoint: string, body: string, timeoutMs = 3000): Promise<string> {
  const req = connectRequest(endpoint, timeoutMs);
  try {
    await req.send(body);
    const [reply] = await req.receive();
    return reply.toString();
  } finally {
    req.close();
  }
}

t.test('a socket loop that throws is logged, re-created on the same endpoint and reported', async (t) => {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const s = await SupervisedSocket.open({ name: 'history', open: () => bindHistory(endpoint), serve: pingPong, minDelayMs: 50 }, log);
  t.teardown(() => s.close());
  t.equal(await ask(endpoint, 'ping'), 'pong', 'serving');
  await t.rejects(ask(endpoint, 'boom', 500), { code: 'EAGAIN' }, 'the request that broke the loop gets no reply');
  let reply = '';
  for (let i = 0; i < 20 && reply !== 'pong'; i++) reply = await ask(endpoint, 'ping', 500).catch(() => '');
  t.equal(reply, 'pong', 'the re-created socket answers on the same endpoint');
  const h = s.health();
  t.equal(h.state, 'ok');
  t.equal(h.restarts, 1, 'one re-creation');
  t.equal(h.failures, 1, 'one failure');
  t.equal(h.lastError, 'boom', 'the failure is named');
  t.type(h.lastErrorAt, 'number');
  await s.close();
  await s.close();
  t.equal(s.health().state, 'closed', 'close is idempotent and reported');
  t.equal(s.socket, null);
});

t.test('a socket without a loop is re-created when a failure is reported', async (t) => {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const s = await SupervisedSocket.open({ name: 'pub', open: () => bindPublisher(endpoint, 10), minDelayMs: 20 }, log);
  t.teardown(() => s.close());
  const first = s.socket;
  s.fault(new Error('send failed'));
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && (s.socket === null || s.socket === first)) await new Promise((r) => setTimeout(r, 20));
  t.not(s.socket, null, 'a socket is live again');
  t.not(s.socket, first, 'it is a new socket');
  t.match(s.health(), { state: 'ok', restarts: 1, failures: 1, lastError: 'send failed' });
});

t.test('the first bind failing is thrown: nothing to supervise', async (t) => {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const holder = await bindHistory(endpoint);
  t.teardown(() => holder.close());
  await t.rejects(SupervisedSocket.open({ name: 'history', open: () => bindHistory(endpoint), serve: pingPong }, log), { code: 'EADDRINUSE' });
});
