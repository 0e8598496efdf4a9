/** Z85 (ZeroMQ RFC 32) encoding of binary keys: what CURVE key files and ZAP handlers compare. */
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

export function z85Encode(data: Uint8Array): string {
  if (data.length % 4 !== 0) throw new Error('Z85 input length must be a multiple of 4');
  let out = '';
  for (let i = 0; i < data.length; i += 4) {
    let v = ((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]) >>> 0;
    let chunk = '';
    for (let k = 0; k < 5; k++) {
      chunk = ALPHABET[v % 85] + chunk;
      v = Math.floor(v / 85);
    }
    out += chunk;
  }
  return out;
}

/** True for a 40-character Z85 string (a 32-byte CURVE key). */
export function isZ85Key(s: string): boolean {
  return s.length === 40 && [...s].every((c) => ALPHABET.includes(c));
}

/** Decodes Z85; null when a character is outside the alphabet or a group exceeds 32 bits. */
export function z85Decode(s: string): Uint8Array | null {
  if (s.length % 5 !== 0) return null;
  const out = new Uint8Array((s.length / 5) * 4);
  for (let i = 0, o = 0; i < s.length; i += 5, o += 4) {
    let v = 0;
    for (let k = 0; k < 5; k++) {
      const d = ALPHABET.indexOf(s[i + k]);
      if (d < 0) return null;
      v = v * 85 + d;
    }
    if (v > 0xffffffff) return null;
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
  }
  return out;
}

/** True for a 40-character Z85 string that decodes to 32 bytes (a CURVE key). */
export function isCurveKey(s: string): boolean {
  return s.length === 40 && z85Decode(s) !== null;
}
