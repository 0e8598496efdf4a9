import { readFile, writeFile } from 'node:fs/promises';
import { LumenError } from '../errors.js';
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
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new LumenError('CONFIG_READ', `${path}: not a readable key pair file (${(err as Error).message})`);
  }
  if (!raw.publicKey || !isZ85Key(raw.publicKey) || !raw.secretKey || !isZ85Key(raw.secretKey)) {
    throw new LumenError('CONFIG_INVALID', `${path}: publicKey and secretKey must be 40-character Z85 CURVE keys`);
  }
  return { publicKey: raw.publicKey, secretKey: raw.secretKey };
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
