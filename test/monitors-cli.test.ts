import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseAllowList } from '../runtime/publish/allow-list.js';
import { generateKeyFiles } from '../runtime/publish/curve-keys.js';
import { isCurveKey, z85Decode, z85Encode } from '../runtime/publish/z85.js';
import { lumen, tempDir, writeConfig } from './helpers/daemon.js';

async function lumenCmd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = lumen(args);
  const e = await c.exited;
  return { code: e.code, stdout: c.stdout(), stderr: c.stderr() };
}

// Two keys made by libzmq itself (lumen keys generate), written out so the test does not compute them.
const K1 = '*Kz8qfUGxBJrNt3tM!6v4HU&1L3sqFbBxEvf0+Y=';
const K2 = 'WYaNk]RzpAqq%8nwT)&+8+qeJHY{D(oy/?@>+}D4';

t.test('Z85 keys: 40 characters of the alphabet that decode to 32 bytes', async (t) => {
  t.ok(isCurveKey(K1));
  t.equal(z85Decode(K1)!.length, 32);
  t.equal(z85Encode(z85Decode(K2)!), K2, 'decode and encode agree');
  t.notOk(isCurveKey(K1.slice(0, 39)), '39 characters');
  t.notOk(isCurveKey(`${K1.slice(0, 39)}~`), 'a character outside the alphabet');
  t.notOk(isCurveKey('#'.repeat(40)), 'alphabet characters whose 5-character groups overflow 32 bits');
});

t.test('allow-list file: a malformed or duplicate line refuses the whole file, naming the line', async (t) => {
  t.same(parseAllowList(`# comment\n\nbed-1 ${K1}\n  bed-2\t${K2}  \n`, 'f'), [
    { name: 'bed-1', key: K1 },
    { name: 'bed-2', key: K2 },
  ]);
  const bad: [string, RegExp][] = [
    [`bed-1 ${K1}\nbed-1 ${K2}\n`, /line 2: name bed-1 already on line 1/],
    [`bed-1 ${K1}\nbed-2 ${K1}\n`, /line 2: the key of bed-2 is already enrolled on line 1/],
    [`bed-1 ${K1} extra\n`, /line 1: expected "NAME KEY", got 3/],
    [`${K1}\n`, /line 1: expected "NAME KEY", got 1/],
    [`bed-1 ${K1.slice(1)}\n`, /line 1: the key of bed-1 is not a 40-character Z85/],
    [`-bed ${K1}\n`, /line 1: "-bed" is not a monitor name/],
  ];
  for (const [text, message] of bad) t.throws(() => parseAllowList(text, 'f'), { code: 'ALLOWLIST_INVALID', message }, JSON.stringify(text));
});

t.test('lumen monitors refuses bad input with its code and leaves the file as it was', async (t) => {
  const dir = tempDir();
  const a = await generateKeyFiles(`${dir}/bed-a`);
  const list = `${dir}/monitors.list`;
  const config = writeConfig(dir, { publish: { curve: { enabled: true, keyFile: 'daemon.key', allowListFile: 'monitors.list' } } });

  const add = await lumenCmd(['monitors', 'add', `${dir}/bed-a.pub`, '--config', config]);
  t.equal(add.code, 0, add.stderr);
  t.match(add.stdout, /enrolled bed-a /, 'the list file is found through the config');
  t.match(readFileSync(list, 'utf8'), `bed-a ${a.publicKey}\n`);
  const again = await lumenCmd(['monitors', 'add', `${dir}/bed-a.pub`, '--config', config]);
  t.equal(again.code, 0, 'enrolling the same monitor again is not an error');
  t.match(again.stdout, /already enrolled/);
  const inline = await lumenCmd(['monitors', 'add', K1, '--file', list]);
  t.equal(inline.code, 0, inline.stderr);
  t.match(inline.stdout, /enrolled monitor-1 /, 'an inline key gets a numbered name');
  const before = readFileSync(list, 'utf8');

  const cases: [string, string[], string][] = [
    ['an invalid Z85 key', ['add', `${K1.slice(0, 39)}~`, '--name', 'bed-c'], 'MONITOR_KEY'],
    ['a key of 39 characters', ['add', K2.slice(1), '--name', 'bed-c'], 'MONITOR_KEY'],
    ['a key pair file, which holds a secret', ['add', `${dir}/bed-a.key`], 'MONITOR_KEY'],
    ['a name already enrolled with another key', ['add', K2, '--name', 'bed-a'], 'ALLOWLIST_INVALID'],
    ['a key already enrolled under another name', ['add', `${dir}/bed-a.pub`, '--name', 'bed-x'], 'ALLOWLIST_INVALID'],
    ['a name with a space', ['add', K2, '--name', 'bed c'], 'USAGE'],
    ['removing an unknown monitor', ['remove', 'bed-z'], 'MONITOR_UNKNOWN'],
  ];
  // Refused commands change nothing, so they may run side by side.
  const results = await Promise.all(cases.map(([, args]) => lumenCmd(['monitors', ...args, '--file', list])));
  for (const [i, [what, , code]] of cases.entries()) {
    const r = results[i];
    t.equal(r.code, 2, `${what}: exit 2`);
    t.match(r.stderr, new RegExp(`lumen: ${code}: `), `${what}: ${code}`);
  }
  t.equal(readFileSync(list, 'utf8'), before, 'the refused commands left the file as it was');

  writeFileSync(list, `${before}bed-a ${K2}\n`);
  const onBad = await lumenCmd(['monitors', 'list', '--file', list]);
  t.equal(onBad.code, 2, 'a malformed file is refused, not edited');
  t.match(onBad.stderr, /ALLOWLIST_INVALID: .*line 4: name bed-a already on line 2/);

  const noKey = writeConfig(dir, {}, 'plain.json');
  const r = await lumenCmd(['monitors', 'list', '--config', noKey]);
  t.equal(r.code, 2);
  t.match(r.stderr, /USAGE: .*allowListFile is not set/, 'a config without an allow-list file is named');
});
