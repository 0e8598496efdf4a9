import t from 'tap';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameReport } from '../runtime/commands/frame.js';
import { loadAnnotations } from '../runtime/annotations.js';
import type { KeyPair } from '../runtime/publish/curve-keys.js';
import { decodeImage, encodePng } from '../runtime/util/image-codec.js';
import { copyBundle, readManifest } from './helpers/bundles.js';
import { SHARED_DATA, tempDir } from './helpers/daemon.js';
import { runLumen } from './helpers/qa-feeds.js';

// The commands a person runs when commissioning a box, run as they would run them.

t.test('lumen feed make renders a video and its annotations, with and without on-screen text', async (t) => {
  const dir = tempDir();
  const out = join(dir, 'clip.mkv');
  const r = await runLumen(['feed', 'make', '-o', out, '--seconds', '2', '--size', '320x240', '--fps', '10', '--seed', '3']);
  t.equal(r.code, 0, `exit 0 (${r.stderr.trim()})`);
  t.ok(statSync(out).size > 1000, 'the video is written');
  const a = await loadAnnotations(join(dir, 'clip.annotations.json'));
  t.equal(a.frameCount, 20, '2 s at 10 fps');
  t.same([a.width, a.height, a.fps], [320, 240, 10]);
  t.equal(a.frames.length, 20, 'one annotation per frame');
  t.ok((a.textRegions ?? []).length > 0, 'on-screen text regions are listed');
  const plain = join(dir, 'plain.avi');
  const p = await runLumen(['feed', 'make', '-o', plain, '--seconds', '1', '--size', '160x120', '--fps', '10', '--no-osd', '--demo']);
  t.equal(p.code, 0, `--no-osd --demo: exit 0 (${p.stderr.trim()})`);
  t.same((await loadAnnotations(join(dir, 'plain.annotations.json'))).textRegions ?? [], [], 'no text regions without OSD');
  const bad = await runLumen(['feed', 'make', '-o', join(dir, 'x.mkv'), '--size', '320by240']);
  t.equal(bad.code, 2, 'a bad size: exit 2');
  t.match(bad.stderr, /USAGE|CONFIG_INVALID|FEED_INVALID/, 'with an error code');
  t.match(bad.stderr, /320by240/, 'naming the value');
  t.notOk(existsSync(join(dir, 'x.mkv')), 'and no file');
});

t.test('lumen frame inspect reports the picture area, quality and burned-in text per image', async (t) => {
  const dir = tempDir();
  // A real endoscopy frame with the processor's text on the left, and an all-black frame.
  const kvasir = join(SHARED_DATA, 'kvasir-seg/images/cju0qkwl35piu0993l0dewei2.jpg');
  const black = join(dir, 'black.png');
  writeFileSync(black, await encodePng({ width: 320, height: 240, data: new Uint8Array(320 * 240 * 4).fill(0).map((_, i) => (i % 4 === 3 ? 255 : 0)) }));
  const r = await runLumen(['frame', 'inspect', '--json', kvasir, black]);
  t.equal(r.code, 0, `exit 0 (${r.stderr.trim()})`);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as FrameReport);
  t.equal(lines.length, 2, 'one JSON line per image');
  const [k, b] = lines;
  const img = await decodeImage(kvasir);
  t.ok(
    k.roi && k.roi.width > img.width / 2 && k.roi.width <= img.width && k.roi.height > img.height / 2,
    `the picture area of the Kvasir frame (${JSON.stringify(k.roi)})`,
  );
  t.equal(k.gated, false, 'a good frame passes the quality gate');
  t.ok(
    k.text.some((x) => x.confidence >= 0.5 && x.x + x.width / 2 < 0.25 * img.width),
    'its on-screen text on the left is found',
  );
  t.match(
    b,
    { roi: { width: 0, height: 0 }, shape: 'none', gated: true, reasons: ['no-picture'], text: [] },
    'the black frame has no picture and is gated for it',
  );
  t.match(k, { shape: 'octagon', reasons: [] });
  const missing = await runLumen(['frame', 'inspect', join(dir, 'nothing.png')]);
  t.equal(missing.code, 2, 'a missing image: exit 2');
  t.match(missing.stderr, /nothing\.png/, 'naming it');
});

t.test('lumen keys generate writes a CURVE pair: the secret file private, the public one to hand out', async (t) => {
  const dir = tempDir();
  const prefix = join(dir, 'monitor');
  const r = await runLumen(['keys', 'generate', '--out', prefix]);
  t.equal(r.code, 0, `exit 0 (${r.stderr.trim()})`);
  const pair = JSON.parse(readFileSync(`${prefix}.key`, 'utf8')) as KeyPair;
  const pub = readFileSync(`${prefix}.pub`, 'utf8').trim();
  t.match(pair, { publicKey: /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/, secretKey: /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/ }, 'two Z85 keys');
  t.equal(pub, pair.publicKey, 'the .pub file holds the public key');
  t.not(pair.secretKey, pair.publicKey);
  t.equal(statSync(`${prefix}.key`).mode & 0o777, 0o600, 'the key pair file is private');
  t.match(r.stdout, pair.publicKey, 'the public key is printed');
  const again = await runLumen(['keys', 'generate', '--out', join(dir, 'other')]);
  t.not((JSON.parse(readFileSync(join(dir, 'other.key'), 'utf8')) as KeyPair).publicKey, pair.publicKey, 'each run makes a new pair');
  void again;
});

t.test('lumen models keygen / sign / verify: a signed bundle verifies with its key only', async (t) => {
  const dir = tempDir();
  const prefix = join(dir, 'release');
  const k = await runLumen(['models', 'keygen', '--out', prefix]);
  t.equal(k.code, 0, `keygen: exit 0 (${k.stderr.trim()})`);
  t.match(readFileSync(`${prefix}.pub.pem`, 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
  t.match(readFileSync(`${prefix}.key.pem`, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
  t.equal(statSync(`${prefix}.key.pem`).mode & 0o077, 0, 'the private key is not readable by others');
  const other = join(dir, 'other');
  await runLumen(['models', 'keygen', '--out', other]);

  const bundle = copyBundle('ref-classifier', dir);
  const unsigned = await runLumen(['models', 'verify', bundle, '--key', `${prefix}.pub.pem`]);
  t.equal(unsigned.code, 2, 'unsigned, with a key asked for: verify refuses it (exit 2)');
  t.match(unsigned.stdout + unsigned.stderr, /BUNDLE_SIGNATURE/);
  const s = await runLumen(['models', 'sign', bundle, '--key', `${prefix}.key.pem`]);
  t.equal(s.code, 0, `sign: exit 0 (${s.stderr.trim()})`);
  t.match(readManifest(bundle).signature, { alg: 'ed25519', keyId: /^[0-9a-f]{64}$/ }, 'the manifest carries the signature');
  const good = await runLumen(['models', 'verify', bundle, '--key', `${prefix}.pub.pem`]);
  t.equal(good.code, 0, `verify with its key: exit 0 (${good.stdout.trim()} ${good.stderr.trim()})`);
  const wrong = await runLumen(['models', 'verify', bundle, '--key', `${other}.pub.pem`]);
  t.equal(wrong.code, 2, 'verify with another key refuses it');
  t.match(wrong.stdout + wrong.stderr, /BUNDLE_SIGNATURE/);
  const noKey = await runLumen(['models', 'sign', bundle, '--key', join(dir, 'absent.pem')]);
  t.equal(noKey.code, 2, 'signing with a missing key file: exit 2');
  t.match(noKey.stderr, /CONFIG_READ: .*absent\.pem: cannot read the private key/, 'with a code, naming the file');
  writeFileSync(join(dir, 'not-a-key.pem'), 'hello');
  const junk = await runLumen(['models', 'sign', bundle, '--key', join(dir, 'not-a-key.pem')]);
  t.equal(junk.code, 2, 'signing with something that is not a key: exit 2');
  t.match(junk.stderr, /CONFIG_INVALID: .*not-a-key\.pem: not an ed25519 private key/);
});
