import t from 'tap';
import { appendFileSync, copyFileSync, cpSync, existsSync, rmSync, truncateSync, lstatSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyPair } from '../../runtime/publish/curve-keys.js';
import { z85Decode } from '../../runtime/publish/z85.js';
import { writeBlindClassifier } from '../helpers/blind-model.js';
import { ROOT, tempDir } from '../helpers/daemon.js';
import { freshRoot, removeRoot, runInRoot, sh, withVersion } from '../helpers/deb-root.js';

// `npm run test:package`: builds the .deb twice (two revisions), checks it with lintian, then
// installs, reconfigures, upgrades, removes and purges it in a throwaway Debian 12 root, and
// provisions over it with scripts/provision.sh. Minutes, not seconds: kept out of `npm test`
// (see docs/fleet.md).

const SYSTEMCTL_LOG = '/var/log/systemctl-calls';
/** The daemon's CURVE key pair, as postinst makes it (docs/security.md), relative to the root. */
const KEY = 'etc/lumen/keys/daemon';

t.test('lumen-edge.deb: lintian clean; install, key pair, upgrade, bad site config, remove, purge, provisioning in a throwaway root', async (t) => {
  const out = tempDir('lumen-debs-');
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const debs: string[] = [];
  for (const revision of ['1', '2']) {
    const b = await sh('bash', [join(ROOT, 'scripts/package.sh'), '--out', out, '--revision', revision, '--compress', 'gzip']);
    t.equal(b.code, 0, `package revision ${revision} builds`, { diagnostic: b.code !== 0, out: b.out.slice(-3000) });
    debs.push(b.out.trim().split('\n').at(-1)!);
  }
  t.same(
    readdirSync(out).sort(),
    ['lumen-edge_0.1.0-1_amd64.deb', 'lumen-edge_0.1.0-2_amd64.deb'].map((n) => n.replace('amd64', debs[0].split('_').at(-1)!.replace('.deb', ''))),
  );

  // lintian takes minutes on this many files: it runs while the root is exercised.
  const linting = sh('lintian', ['--allow-root', '--fail-on', 'error', '--tag-display-limit', '0', debs[0]]);
  t.teardown(async () => void (await linting));

  const root = await freshRoot();
  t.teardown(() => removeRoot(root));
  for (const d of debs) copyFileSync(d, join(root, 'tmp', d.split('/').at(-1)!));
  const [deb1, deb2] = debs.map((d) => `/tmp/${d.split('/').at(-1)}`);
  // systemd does not run in a chroot: a recording systemctl (diverted, as a package would) and
  // /run/systemd/system let the maintainer scripts take the paths they take on an appliance.
  const shim = await runInRoot(
    root,
    [
      'dpkg-divert --quiet --local --rename --add /usr/bin/systemctl',
      // A recording stand-in for the unit's state: start/restart make it active, stop inactive;
      // is-active also fails while /run/lumen-inactive exists (a daemon that never comes up).
      // is-enabled answers from the unit links, which preset/enable/disable (the real systemctl,
      // working offline) make.
      `printf '#!/bin/sh\\necho "$*" >> ${SYSTEMCTL_LOG}\\ncase "$*" in\\n  *is-active*) [ -e /run/lumen-active ] && [ ! -e /run/lumen-inactive ]; exit;;\\n  *is-enabled*) [ -L /etc/systemd/system/multi-user.target.wants/lumen-edge.service ] && echo enabled || echo disabled; exit 0;;\\n  *stop*) rm -f /run/lumen-active; exit 0;;\\n  *start*) touch /run/lumen-active; exit 0;;\\n  *daemon-reload*|*list-units*) exit 0;;\\nesac\\nexec /usr/bin/systemctl.distrib "$@"\\n' > /usr/bin/systemctl`,
      'chmod 755 /usr/bin/systemctl',
      'mkdir -p /run/systemd/system',
    ].join(' && '),
  );
  t.equal(shim.code, 0, shim.out);
  const calls = () => (existsSync(join(root, SYSTEMCTL_LOG)) ? readFileSync(join(root, SYSTEMCTL_LOG), 'utf8') : '');

  // Install.
  const install = await runInRoot(root, `dpkg -i ${deb1}`);
  t.equal(install.code, 0, 'dpkg -i', { out: install.out });
  t.match(
    (await runInRoot(root, 'getent passwd lumen && id -nG lumen')).out,
    /^lumen:x:\d+:\d+:Lumen Edge daemon:\/var\/lib\/lumen:\/usr\/sbin\/nologin\n.*\bvideo\b/m,
    'the lumen user, in group video',
  );
  t.match((await runInRoot(root, 'stat -c "%U %a" /var/lib/lumen /var/cache/lumen')).out, 'lumen 750\nlumen 750', 'state and cache directories owned by lumen');
  t.ok(lstatSync(join(root, 'etc/systemd/system/multi-user.target.wants/lumen-edge.service')).isSymbolicLink(), 'the unit is enabled');
  t.match(calls(), /start lumen-edge\.service/, 'and started');
  t.match((await runInRoot(root, "dpkg-query -W -f='${Conffiles}' lumen-edge")).out, /\/etc\/lumen\/config\.yaml [0-9a-f]{32}/, 'config.yaml is a conffile');
  const doctor = await runInRoot(root, 'lumen doctor --config /etc/lumen/config.yaml --json');
  t.equal(doctor.code, 0, 'lumen doctor passes in the root', { out: doctor.out.slice(-3000) });
  const report = JSON.parse(doctor.out.slice(doctor.out.indexOf('{'))) as { ok: boolean; checks: { name: string; verdict: string }[] };
  t.equal(report.ok, true);
  t.same(
    report.checks.filter((c) => c.verdict === 'FAIL'),
    [],
    'no FAIL',
  );
  t.equal(report.checks.find((c) => c.name === 'gstreamer')?.verdict, 'OK', 'GStreamer from the Depends is there');
  t.equal(report.checks.find((c) => c.name === 'pixel loops')?.verdict, 'OK', 'the compiled pixel loops are packed and load');
  // The package ships its bill of materials.
  const sbom = JSON.parse(readFileSync(join(root, 'usr/share/doc/lumen-edge/sbom.cdx.json'), 'utf8')) as { bomFormat: string; components: { name: string }[] };
  t.equal(sbom.bomFormat, 'CycloneDX', 'the SBOM is CycloneDX');
  for (const name of ['onnxruntime-node', 'zeromq', 'gstreamer-superficial', 'libgstreamer1.0-0'])
    t.ok(
      sbom.components.some((c) => c.name === name),
      `the SBOM names ${name}`,
    );

  // postinst made the daemon's key pair: the secret for the service user only.
  const keyModes = async () => (await runInRoot(root, `stat -c '%n %U:%G %a' /etc/lumen/keys /${KEY}.key`)).out;
  t.equal(await keyModes(), `/etc/lumen/keys root:lumen 750\n/${KEY}.key lumen:lumen 600\n`, "the secret key: lumen's, mode 600, in a folder closed to others");
  const pub = readFileSync(join(root, `${KEY}.pub`), 'utf8');
  t.match(pub, /^\S{40}\n$/, 'the public key: one line of 40 characters');
  t.equal(z85Decode(pub.trim())?.length, 32, 'valid Z85 of a 32-byte key');
  t.equal((JSON.parse(readFileSync(join(root, `${KEY}.key`), 'utf8')) as KeyPair).publicKey, pub.trim(), "the .pub is the pair's");
  const readAs = (ids: string) => runInRoot(root, `setpriv ${ids} cat /${KEY}.key >/dev/null`);
  t.equal((await readAs('--reuid=lumen --regid=lumen --init-groups')).code, 0, 'lumen reads the secret');
  t.not((await readAs('--reuid=nobody --regid=nogroup --clear-groups')).code, 0, 'another user cannot');
  const keyBytes = () => [`${KEY}.key`, `${KEY}.pub`].map((f) => readFileSync(join(root, f), 'latin1'));
  const keys = keyBytes();

  // The site edits its config and the alert journal has history; then the upgrade.
  appendFileSync(join(root, 'etc/lumen/config.yaml'), 'health:\n  sampleIntervalMs: 3000 # site edit\n');
  writeFileSync(join(root, 'var/lib/lumen/alerts.jsonl'), '{"seq":1}\n');
  const before = calls().length;
  const upgrade = await runInRoot(root, `dpkg -i ${deb2}`);
  t.equal(upgrade.code, 0, 'dpkg -i of the second build', { out: upgrade.out });
  t.equal((await runInRoot(root, "dpkg-query -W -f='${Version}' lumen-edge")).out, '0.1.0-2', 'the second build is installed');
  t.match(readFileSync(join(root, 'etc/lumen/config.yaml'), 'utf8'), /# site edit/, "the site's config survives the upgrade");
  t.match(calls().slice(before), /restart lumen-edge\.service/, 'the upgrade restarts the daemon');
  t.equal(readFileSync(join(root, 'var/lib/lumen/alerts.jsonl'), 'utf8'), '{"seq":1}\n', 'the journal is untouched');
  t.same(keyBytes(), keys, 'the key pair is byte for byte the one before (monitors hold its public key)');
  t.equal(await keyModes(), `/etc/lumen/keys root:lumen 750\n/${KEY}.key lumen:lumen 600\n`, 'with its owner and modes');

  // A site config this version refuses: kept as it is, said so, no restart. And a key pair that
  // ensure cannot read: said, left for a person, never regenerated; neither fails the install.
  const bad = readFileSync(join(root, 'etc/lumen/config.yaml'), 'utf8') + 'captur:\n  pipeline: demo\n';
  writeFileSync(join(root, 'etc/lumen/config.yaml'), bad);
  writeFileSync(join(root, `${KEY}.key`), '{"publicKey":"x"}\n');
  const mark = calls().length;
  const again = await runInRoot(root, `dpkg -i ${deb2}`);
  t.equal(again.code, 0, 'the install itself succeeds', { out: again.out });
  t.match(again.out, /CONFIG_INVALID/, 'the refusal names its code');
  t.match(again.out, /\/etc\/lumen\/config\.yaml is kept as it is/, 'and says the config is kept');
  t.equal(readFileSync(join(root, 'etc/lumen/config.yaml'), 'utf8'), bad, 'the site config is unchanged');
  t.notMatch(calls().slice(mark), /restart|start lumen/, 'the running daemon is not restarted onto a config it would refuse');
  t.match(again.out, /KEY_FILE/, 'the damaged key pair: its code');
  t.match(again.out, /key pair in \/etc\/lumen\/keys needs a look/, 'and what to look at');
  t.equal(readFileSync(join(root, `${KEY}.key`), 'utf8'), '{"publicKey":"x"}\n', 'the damaged key is left as it is');
  writeFileSync(join(root, 'etc/lumen/config.yaml'), bad.replace(/captur:\n.*\n$/, ''));
  writeFileSync(join(root, `${KEY}.key`), keys[0], 'latin1');

  // Remove keeps the journal and the config; purge removes them.
  const mark2 = calls().length;
  const remove = await runInRoot(root, 'dpkg -r lumen-edge');
  t.equal(remove.code, 0, 'dpkg -r', { out: remove.out });
  t.match(calls().slice(mark2), /stop lumen-edge\.service/, 'remove stops the daemon');
  t.notOk(existsSync(join(root, 'usr/lib/lumen-edge/dist')), 'the runtime is gone');
  t.notOk(existsSync(join(root, 'usr/bin/lumen')), '/usr/bin/lumen is gone');
  t.equal(readFileSync(join(root, 'var/lib/lumen/alerts.jsonl'), 'utf8'), '{"seq":1}\n', 'remove keeps /var/lib/lumen (clinical evidence)');
  t.ok(existsSync(join(root, 'etc/lumen/config.yaml')), 'remove keeps the conffile');
  t.same(keyBytes(), keys, 'and the key pair');
  writeFileSync(join(root, 'etc/lumen/monitors.list'), `bed-1 ${pub}`); // the site's, not the package's
  const purge = await runInRoot(root, 'dpkg -P lumen-edge');
  t.equal(purge.code, 0, 'dpkg -P', { out: purge.out });
  t.notOk(existsSync(join(root, 'var/lib/lumen')), 'purge removes /var/lib/lumen');
  t.notOk(existsSync(join(root, 'etc/lumen/config.yaml')), 'and the config');
  t.notOk(existsSync(join(root, 'etc/lumen/keys')), 'and the key pair postinst made');
  t.same(readdirSync(join(root, 'etc/lumen')), ['monitors.list'], 'only what the site added stays in /etc/lumen');
  rmSync(join(root, 'etc/lumen/monitors.list'));
  t.notOk(existsSync(join(root, 'etc/systemd/system/multi-user.target.wants/lumen-edge.service')), 'and the enablement');
  t.not((await runInRoot(root, 'dpkg -s lumen-edge')).code, 0, 'dpkg no longer knows the package');
  t.ok(statSync(join(root, 'usr/bin/node')).isFile(), 'the root is intact (nodejs still there)');

  // scripts/provision.sh over the package: install, refused updates, a takeover that fails, then
  // two updates that take over; /var/cache/lumen-edge-releases keeps the running release's
  // package and the one that ran before it (docs/fleet.md).
  const site = join(tempDir(), 'site.env');
  writeFileSync(site, 'CAPTURE_PIPELINE=demo\nCAPTURE_PARAMS={}\nBIND_ADDRESS=127.0.0.1\nCLASSIFIER=ref-classifier\nSEGMENTER=ref-segmenter\n');
  const models = tempDir('lumen-models-');
  for (const id of ['ref-classifier', 'ref-segmenter']) cpSync(join(ROOT, 'models', id), join(models, id), { recursive: true });
  const provision = (deb: string, modelDir: string) =>
    sh('bash', [join(ROOT, 'scripts/provision.sh'), '--deb', deb, '--root', root, '--site', site, '--models', modelDir], {
      env: { LUMEN_TAKEOVER_TIMEOUT_S: '6' },
    });
  const version = async () => (await runInRoot(root, "dpkg-query -W -f='${Version}' lumen-edge")).out;
  const releases = () => readdirSync(join(root, 'var/cache/lumen-edge-releases')).sort();
  const kept = (...revisions: number[]) => revisions.map((r) => debs[0].split('/').at(-1)!.replace('0.1.0-1', `0.1.0-${r}`));
  const p1 = await provision(debs[0], models);
  t.equal(p1.code, 0, 'provision installs', { out: p1.out.slice(-3000) });
  t.match(p1.out, /OK {3}lesion at frames/, 'after the selftest ran on the new version');
  t.notMatch(p1.out, /^lumen-edge: /m, 'postinst had nothing to report (key pair made, config accepted)');
  t.equal(await version(), '0.1.0-1');
  t.match(
    readFileSync(join(root, 'etc/lumen/config.yaml'), 'utf8'),
    /classifier: \/var\/lib\/lumen-models\/ref-classifier/,
    'the site config names the site models',
  );
  t.ok(existsSync(join(root, 'var/lib/lumen-models/ref-classifier/model.onnx')), 'the site models are installed');
  t.match(calls(), /is-active --quiet lumen-edge\.service/, 'provision waited for the daemon to be active');
  const configBefore = readFileSync(join(root, 'etc/lumen/config.yaml'), 'utf8');
  t.match(configBefore, /curve: \{ enabled: true, keyFile: \/etc\/lumen\/keys\/daemon\.key/, "the site config turns CURVE on with the package's key");
  const siteDoctor = await runInRoot(root, 'lumen doctor --config /etc/lumen/config.yaml --json');
  const curveKey = (JSON.parse(siteDoctor.out.slice(siteDoctor.out.indexOf('{'))) as typeof report).checks.find((c) => c.name === 'curve key');
  t.equal(curveKey?.verdict, 'OK', 'and doctor finds that key, readable and closed to others');
  t.same(releases(), kept(1), 'the installed package is kept for a rollback');
  const siteKeys = keyBytes();

  const broken = tempDir('lumen-models-');
  cpSync(models, broken, { recursive: true });
  truncateSync(join(broken, 'ref-classifier/model.onnx'), 500);
  const p2 = await provision(debs[1], broken);
  t.not(p2.code, 0, 'an update with a damaged bundle fails');
  t.match(p2.out, /FAILED at step \[model bundles\]/, 'naming the step');
  t.match(p2.out, /BUNDLE_HASH/, 'and the code');
  t.equal(await version(), '0.1.0-1', 'the installed version is untouched');
  t.equal(readFileSync(join(root, 'etc/lumen/config.yaml'), 'utf8'), configBefore, 'and its config');

  // A release whose classifier regressed: a valid, hashed bundle that never finds a lesion.
  const blind = tempDir('lumen-models-');
  cpSync(join(models, 'ref-segmenter'), join(blind, 'ref-segmenter'), { recursive: true });
  await writeBlindClassifier(blind);
  const siteModel = () => readFileSync(join(root, 'var/lib/lumen-models/ref-classifier/manifest.json'), 'utf8');
  const modelBefore = siteModel();
  const pBlind = await provision(debs[1], blind);
  t.not(pBlind.code, 0, 'an update whose selftest fails on the new release is refused');
  t.match(pBlind.out, /FAIL lesion at frames \d+–\d+: no alert/, 'the selftest missed the demo lesions');
  t.match(pBlind.out, /FAILED at step \[selftest\]/, 'naming the step');
  t.equal(await version(), '0.1.0-1', 'the installed version is untouched');
  t.equal(readFileSync(join(root, 'etc/lumen/config.yaml'), 'utf8'), configBefore, 'and its config');
  t.equal(siteModel(), modelBefore, 'and the site models');
  t.same(releases(), kept(1), 'and the kept packages');

  writeFileSync(join(root, 'run/lumen-inactive'), '');
  const p3 = await provision(debs[1], models);
  t.not(p3.code, 0, 'an update whose daemon never becomes active fails');
  t.match(p3.out, /\[rollback\][\s\S]*lumen-edge 0\.1\.0-1 reinstalled/, 'and rolls back');
  t.match(p3.out, /FAILED at step \[takeover\]/);
  t.equal(await version(), '0.1.0-1', 'the previous package is installed again');
  t.equal(readFileSync(join(root, 'etc/lumen/config.yaml'), 'utf8'), configBefore, 'with its config');
  t.same(releases(), kept(1), 'the rolled-back package is not kept');

  rmSync(join(root, 'run/lumen-inactive'));
  const p4 = await provision(debs[1], models);
  t.equal(p4.code, 0, 'an update that takes over', { out: p4.out.slice(-3000) });
  t.equal(await version(), '0.1.0-2');
  t.same(releases(), kept(1, 2), 'keeps the running package and the one before');
  const p5 = await provision(await withVersion(debs[1], '0.1.0-3'), models);
  t.equal(p5.code, 0, 'the next update', { out: p5.out.slice(-3000) });
  t.equal(await version(), '0.1.0-3');
  t.same(releases(), kept(2, 3), 'drops the package two releases back');
  t.same(keyBytes(), siteKeys, "provisioned updates keep the daemon's key pair");

  const lint = await linting;
  t.equal(lint.code, 0, 'lintian: no errors', { out: lint.out });
  t.notMatch(lint.out, /^E: /m, 'no E: line');
  t.comment(`lintian:\n${lint.out.trim() || '(nothing)'}`);
});
