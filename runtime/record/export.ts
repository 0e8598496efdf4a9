import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { LumenError, messageOf, errnoOf } from '../errors.js';
import type { Catalogue, RecordingInfo } from './catalogue.js';
import { FILE_MODE } from './disk.js';

const BLOCK = 512;

/**
 * One recording as one file: a POSIX tar (ustar) of the video, its annotation sidecar and its
 * record, so that the evidence travels whole and `tar xf` gives what `lumen replay` reads.
 * Written with mode 0600 (it holds patient video) and never over an existing file.
 */
export async function exportRecording(cat: Catalogue, r: RecordingInfo, out: string): Promise<{ bytes: number; sha256: string; members: string[] }> {
  const members: { name: string; path?: string; text?: string }[] = [{ name: basename(r.path), path: cat.abs(r.path) }];
  if (
    await stat(cat.abs(r.sidecar)).then(
      () => true,
      () => false,
    )
  )
    members.push({ name: basename(r.sidecar), path: cat.abs(r.sidecar) });
  members.push({ name: `${r.id}.json`, text: JSON.stringify(r, null, 2) + '\n' });
  let fh;
  try {
    fh = await open(out, 'wx', FILE_MODE);
  } catch (err) {
    const code = errnoOf(err);
    throw new LumenError('USAGE', `--out ${out}: ${code === 'EEXIST' ? 'the file exists (an export never overwrites)' : messageOf(err)}`);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for (const m of members) {
      const data = m.text !== undefined ? Buffer.from(m.text) : null;
      const size = data ? data.length : (await stat(m.path!)).size;
      await fh.write(header(m.name, size, Math.floor(r.createdAt / 1000)));
      bytes += BLOCK;
      if (data) await fh.write(data);
      else {
        const src = await open(m.path!, 'r');
        try {
          const chunk = Buffer.alloc(1 << 20);
          for (let at = 0; at < size;) {
            const { bytesRead } = await src.read(chunk, 0, Math.min(chunk.length, size - at), at);
            if (bytesRead === 0) throw new Error(`${m.path} shrank while being exported`);
            const part = chunk.subarray(0, bytesRead);
            if (m === members[0]) hash.update(part);
            await fh.write(part);
            at += bytesRead;
          }
        } finally {
          await src.close();
        }
      }
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad) await fh.write(Buffer.alloc(pad));
      bytes += size + pad;
    }
    await fh.write(Buffer.alloc(2 * BLOCK));
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { bytes: bytes + 2 * BLOCK, sha256: hash.digest('hex'), members: members.map((m) => m.name) };
}

/** A ustar header for a regular file, mode 0600. */
function header(name: string, size: number, mtime: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar member name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  const put = (at: number, len: number, s: string) => h.write(s, at, len, 'ascii');
  const octal = (at: number, len: number, n: number) => put(at, len, n.toString(8).padStart(len - 1, '0') + '\0');
  put(0, 100, name);
  octal(100, 8, 0o600);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, mtime);
  put(148, 8, '        ');
  put(156, 1, '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}
