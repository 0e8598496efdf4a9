import t from 'tap';
import { encodeHeader, HISTORY_MAX_LIMIT, PROTOCOL_VERSION, TOPICS, type AlertHeader } from '../runtime/publish/protocol.js';

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
