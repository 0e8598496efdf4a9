import { chmod, chown, open, readFile, stat, writeFile } from 'node:fs/promises';
import { LumenError, errnoOf, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { MonitorAllowList } from './allow-list.js';
import { assertExposureAllowed, ENROL_HELP, publishExposure } from './exposure.js';
import { isZ85Key } from './z85.js';
import { curveKeyPair } from './zmq.js';

/** A CURVE key pair file (`<prefix>.key`, JSON, mode 600) and its public half (`<prefix>.pub`). */
export interface KeyPair {
  publicKey: string;
  secretKey: string;
}

/** Writes `<prefix>.key` (both keys) and `<prefix>.pub` (the public key, to hand out). */
export async function generateKeyFiles(prefix: string): Promise<KeyPair> {
  const k = curveKeyPair();
  await writeFile(`${prefix}.key`, JSON.stringify({ publicKey: k.publicKey, secretKey: k.secretKey }, null, 2) + '\n', { mode: 0o600 });
  await writeFile(`${prefix}.pub`, `${k.publicKey}\n`);
  return k;
}

export async function loadKeyPair(path: string): Promise<KeyPair> {
  let raw: Partial<KeyPair>;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as Partial<KeyPair>;
  } catch (err) {
    throw new LumenError('KEY_FILE', `${path}: not a readable key pair file (${errnoOf(err) ?? messageOf(err)})`);
  }
  if (!raw || typeof raw !== 'object' || !raw.publicKey || !isZ85Key(raw.publicKey) || !raw.secretKey || !isZ85Key(raw.secretKey)) {
    throw new LumenError('KEY_FILE', `${path}: publicKey and secretKey must be 40-character Z85 CURVE keys`);
  }
  return { publicKey: raw.publicKey, secretKey: raw.secretKey };
}

/** What `ensureKeyFiles` found or did. */
export interface EnsureResult {
  created: boolean;
  publicKey: string;
  /** Changes made to an existing pair's files (mode tightened, owner set, .pub rewritten). */
  fixed: string[];
}

/**
 * Idempotent, for installers (provisioning, the package's postinst) on every install and
 * upgrade: makes `<prefix>.key` (mode 600) and `<prefix>.pub` if there is no key yet, and never
 * replaces an existing pair: monitors hold its public key. A damaged pair is refused (KEY_FILE)
 * rather than regenerated. An existing pair's secret is tightened to 600 (and given to `owner`);
 * a missing or stale `.pub` is rewritten from it.
 */
export async function ensureKeyFiles(prefix: string, owner?: { uid: number; gid: number }): Promise<EnsureResult> {
  const keyPath = `${prefix}.key`;
  const fixed: string[] = [];
  let pair: KeyPair;
  let created = false;
  const existing = await stat(keyPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new LumenError('KEY_FILE', `${keyPath}: ${err.code ?? err.message}`);
  });
  if (existing) {
    pair = await loadKeyPair(keyPath);
    if ((existing.mode & 0o077) !== 0) {
      await chmod(keyPath, 0o600);
      fixed.push(`${keyPath}: mode ${(existing.mode & 0o777).toString(8)} → 600`);
    }
  } else {
    const k = curveKeyPair();
    pair = { publicKey: k.publicKey, secretKey: k.secretKey };
    // 'wx': never replace a key another installer run made a moment ago.
    const fh = await open(keyPath, 'wx', 0o600);
    try {
      await fh.writeFile(JSON.stringify(pair, null, 2) + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    created = true;
  }
  if (owner && (!existing || existing.uid !== owner.uid || existing.gid !== owner.gid)) {
    await chown(keyPath, owner.uid, owner.gid);
    if (existing) fixed.push(`${keyPath}: owner → ${owner.uid}:${owner.gid}`);
  }
  const pubPath = `${prefix}.pub`;
  const pub = await readFile(pubPath, 'utf8').catch(() => '');
  if (pub.trim() !== pair.publicKey) {
    await writeFile(pubPath, `${pair.publicKey}\n`, { mode: 0o644 });
    if (existing) fixed.push(`${pubPath}: rewritten from the key pair`);
  }
  return { created, publicKey: pair.publicKey, fixed };
}

/** Group and others must not read the daemon's secret key; doctor and the log say so. */
export async function keyFileExposure(path: string): Promise<string | null> {
  const s = await stat(path).catch(() => null);
  if (!s) return null;
  return (s.mode & 0o077) !== 0 ? `${path} is mode ${(s.mode & 0o777).toString(8)}: others on this machine can read the daemon's secret key` : null;
}

/** A public key given inline (Z85) or as the path of a `.pub` file. */
export async function loadPublicKey(spec: string): Promise<string> {
  if (isZ85Key(spec)) return spec;
  let text: string;
  try {
    text = (await readFile(spec, 'utf8')).trim();
  } catch {
    throw new LumenError('CONFIG_READ', `${spec}: neither a Z85 public key nor a readable .pub file`);
  }
  if (!isZ85Key(text)) throw new LumenError('CONFIG_INVALID', `${spec}: does not hold a 40-character Z85 public key`);
  return text;
}

/** The publish settings that decide how the sockets are protected (config's publish section). */
export interface PublishSecurityConfig {
  endpoint: string;
  historyEndpoint: string;
  insecure: boolean;
  curve: { enabled: boolean; keyFile: string; allowedClients: readonly string[]; allowListFile: string };
}

/**
 * At daemon start: refuses a network-reachable endpoint without CURVE (PUBLISH_INSECURE) unless
 * publish.insecure is set, logs the set-up, and with CURVE loads the key pair and opens the
 * watched monitor allow-list. Undefined when CURVE is off.
 */
export async function publishSecurity(p: PublishSecurityConfig, log: Logger): Promise<{ secretKey: string; clients: MonitorAllowList } | undefined> {
  const e = publishExposure(p);
  assertExposureAllowed(e);
  if (!p.curve.enabled) {
    if (p.insecure)
      log.warn(
        { insecure: true, exposed: e.exposed },
        `publish.insecure is set: ${e.exposed.length ? e.exposed.join(' and ') : 'the sockets'} publish without encryption or authentication; anyone who can reach them receives alerts, overlays and previews and may connect`,
      );
    return undefined;
  }
  if (p.insecure) log.info('publish.insecure is set but CURVE is on: the setting has no effect');
  const pair = await loadKeyPair(p.curve.keyFile);
  const loose = await keyFileExposure(p.curve.keyFile);
  if (loose) log.warn(`${loose}; run lumen keys ensure --out ${p.curve.keyFile.replace(/\.key$/, '')} to tighten it`);
  const staticKeys = await Promise.all(p.curve.allowedClients.map(loadPublicKey));
  const clients = await MonitorAllowList.open({ file: p.curve.allowListFile, staticKeys, log, watch: true });
  log.info(
    { publicKey: pair.publicKey, monitors: clients.enrolled.map((m) => m.name), configKeys: staticKeys.length, allowListFile: p.curve.allowListFile || null },
    'CURVE on: only enrolled monitors may connect',
  );
  if (clients.size === 0) log.warn(`CURVE is on but no monitor is enrolled: ${ENROL_HELP.split('; ')[1]}`);
  return { secretKey: pair.secretKey, clients };
}
