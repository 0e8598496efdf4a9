import t from 'tap';
import { readFileSync } from 'node:fs';
import { encodeHeader, HISTORY_MAX_LIMIT, PROTOCOL_VERSION, TOPIC_TABLE, TOPICS, topicKey, type AlertHeader } from '../runtime/publish/protocol.js';
import { GATE_REASONS, joinReasons, QUALITY_REASONS, REGION_CAUSES, splitReasons } from '../runtime/quality/gate-reasons.js';
import { ROOT } from './helpers/daemon.js';

t.test('topics and version are the documented ones (docs/protocol.md)', async (t) => {
  t.same(TOPICS, { status: 'lumen.status', alert: 'lumen.alert', overlay: 'lumen.overlay', frame: 'lumen.frame', clip: 'lumen.clip' });
  t.equal(PROTOCOL_VERSION, 1);
  t.equal(HISTORY_MAX_LIMIT, 500);
  // Subscribers filter by prefix: no topic may be a prefix of another.
  const all = Object.values(TOPICS);
  t.ok(
    all.every((a) => all.every((b) => a === b || !b.startsWith(a))),
    'no topic is a prefix of another',
  );
});

t.test('a header encodes to JSON that parses back to the same fields', async (t) => {
  const h: AlertHeader = {
    v: 1,
    seq: 7,
    frameId: 42,
    ts: 1_700_000_000_123,
    bootId: 'b1',
    type: 'raise',
    episode: 2,
    onsetFrame: 40,
    score: 0.91,
    peakScore: 0.93,
    box: { x: 10, y: 20, width: 30, height: 40 },
    areaPx: 900,
  };
  const text = encodeHeader(h);
  t.equal(typeof text, 'string');
  t.same(JSON.parse(text), h);
  t.equal(
    text,
    '{"v":1,"seq":7,"frameId":42,"ts":1700000000123,"bootId":"b1","type":"raise","episode":2,"onsetFrame":40,"score":0.91,"peakScore":0.93,"box":{"x":10,"y":20,"width":30,"height":40},"areaPx":900}',
    'compact, in field order',
  );
});

t.test('every topic is documented in docs/protocol.md, and the table says what the viewer gets', async (t) => {
  const doc = readFileSync(`${ROOT}docs/protocol.md`, 'utf8');
  for (const [key, spec] of Object.entries(TOPIC_TABLE)) {
    t.ok(doc.includes(`### \`${spec.name}\``), `${spec.name} has its section`);
    t.equal(topicKey(spec.name), key, `${spec.name} maps back to ${key}`);
  }
  t.equal(topicKey('lumen.nope'), undefined, 'an unknown topic has no key');
  const fed = Object.values(TOPIC_TABLE)
    .filter((s) => s.view)
    .map((s): string => s.name);
  t.notOk(fed.includes(TOPICS.clip), 'lumen view is not fed finished recordings');
  t.ok(
    [TOPICS.status, TOPICS.alert, TOPICS.overlay, TOPICS.frame].every((n) => fed.includes(n)),
    'lumen view is fed status, alerts, overlays and previews',
  );
});

t.test('gate reasons: one table, documented, joined on the wire in its order', async (t) => {
  const doc = readFileSync(`${ROOT}docs/protocol.md`, 'utf8');
  for (const [reason, r] of Object.entries(GATE_REASONS)) {
    t.ok(doc.includes(`| \`${reason}\` | ${r.region ? 'yes' : 'no'} | ${r.meaning} |`), `${reason} documented with its meaning`);
  }
  // Monitors and recorded sidecars hold these names in this order: a new reason may come anywhere, these stay.
  const wire = ['no-picture', 'dark', 'overexposed', 'blurred', 'bubbles', 'bleeding'];
  t.same(
    QUALITY_REASONS.filter((r) => wire.includes(r)),
    wire,
    'the reasons, in the order the wire lists them',
  );
  t.same(
    REGION_CAUSES.filter((r) => wire.includes(r)),
    ['dark', 'overexposed', 'bubbles', 'bleeding'],
    'the causes that hide regions',
  );
  t.equal(joinReasons(['bleeding', 'dark']), 'dark,bleeding', 'several reasons are joined in table order');
  t.equal(joinReasons(['no-picture']), 'no-picture');
  t.same(splitReasons('dark,bleeding'), ['dark', 'bleeding']);
  t.same(splitReasons('dark,smoke,constructor'), ['dark'], 'names a newer daemon may send are left out');
});
