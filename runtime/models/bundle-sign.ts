import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { Manifest } from './manifest.js';

/** JSON with object keys sorted at every level: the same bytes for the same manifest. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What is signed: the whole manifest (which holds the ONNX file's sha256) minus the signature. */
export function signedPayload(m: Manifest): Buffer {
  // canonicalJson leaves out undefined members: the payload is the manifest without its signature.
  return Buffer.from(`lumen-bundle-signature/1\n${canonicalJson({ ...m, signature: undefined })}`);
}

/** Names a public key: sha256 of its SPKI DER encoding, hex. */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export function generateSigningKeys(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Returns the manifest with an ed25519 signature from `privatePem`. */
export function signManifest(m: Manifest, privatePem: string): Manifest {
  const priv = createPrivateKey(privatePem);
  const pub = createPublicKey(priv);
  const value = sign(null, signedPayload(m), priv).toString('base64');
  return { ...m, signature: { alg: 'ed25519', keyId: keyId(pub), value } };
}

/** Verifies the manifest's signature with one of `trustedPems`; returns why not, or null if good. */
export function checkSignature(m: Manifest, trustedPems: readonly string[]): string | null {
  if (!m.signature) return 'the manifest has no signature';
  const keys = trustedPems.map((p) => createPublicKey(p));
  const key = keys.find((k) => keyId(k) === m.signature!.keyId);
  if (!key) return `signature.keyId ${m.signature.keyId.slice(0, 16)}… is not a trusted key`;
  const ok = verify(null, signedPayload(m), key, Buffer.from(m.signature.value, 'base64'));
  return ok ? null : 'signature.value does not verify: the manifest or the model changed after signing';
}
