import { constants } from 'node:fs';
import { access, chmod, mkdir, stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LumenError, messageOf, errnoOf } from '../errors.js';

/** Owner only: recordings hold patient video. */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** Below this much free space a failed write is taken for a full disk, bytes. */
const FULL_BELOW_BYTES = 1024 * 1024;

/** Makes `dir` (mode 0700) if missing and checks that it can be written; throws RECORD_FOLDER. */
export async function ensureFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    const s = await stat(dir);
    if (!s.isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ENOTDIR' });
    if ((s.mode & 0o777) !== DIR_MODE) await chmod(dir, DIR_MODE);
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    // Recursive mkdir reports some failures as ENOENT: ask the nearest folder that exists.
    const code = (await nearestProblem(dir)) ?? errnoOf(err);
    if (code === 'ENOSPC') throw new LumenError('RECORD_DISK_FULL', `${dir}: no space left to make the recordings folder`, { path: dir }, { cause: err });
    throw new LumenError('RECORD_FOLDER', `${dir}: ${folderProblem(code) ?? messageOf(err)}`, { path: dir, errno: code }, { cause: err });
  }
}

/** Why the nearest existing folder at or above `dir` cannot be written (EROFS, EACCES, ENOTDIR), or null. */
async function nearestProblem(dir: string): Promise<string | null> {
  for (let at = dir; ; at = dirname(at)) {
    const s = await stat(at).catch(() => null);
    if (s)
      return s.isDirectory()
        ? await access(at, constants.W_OK | constants.X_OK).then(
            () => null,
            (e: NodeJS.ErrnoException) => e.code ?? null,
          )
        : 'ENOTDIR';
    if (dirname(at) === at) return null;
  }
}

function folderProblem(code: string | undefined): string | null {
  switch (code) {
    case 'EROFS':
      return 'the filesystem is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'not writable by this user';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a file stands where the recordings folder should be';
    case 'ENOENT':
      return 'the folder is missing and cannot be made';
    case undefined:
    default:
      return null;
  }
}

/** Free space where `dir` lives (or would, if it is not made yet), MB; null when it cannot be read. */
export async function freeMB(dir: string): Promise<number | null> {
  for (let at = dir; ; at = dirname(at)) {
    const s = await statfs(at).catch(() => null);
    if (s) return (s.bavail * s.bsize) / 2 ** 20;
    if (dirname(at) === at) return null;
  }
}

/**
 * Names a failed write from the state of the filesystem, not from the error's wording (which
 * GStreamer and libc phrase differently on every machine): a full disk, a folder that cannot be
 * written, or another I/O error.
 */
export async function writeFault(dir: string, what: string, err: unknown): Promise<LumenError> {
  const code = errnoOf(err);
  const free = await freeMB(dir);
  if (code === 'ENOSPC' || (free !== null && free * 2 ** 20 < FULL_BELOW_BYTES)) {
    return new LumenError(
      'RECORD_DISK_FULL',
      `${what}: the disk is full (${free === null ? '?' : free.toFixed(1)} MB free in ${dir})`,
      { path: dir },
      { cause: err },
    );
  }
  const writable = await access(dir, constants.W_OK).then(
    () => null,
    (e: NodeJS.ErrnoException) => e.code ?? 'EACCES',
  );
  if (writable || code === 'EROFS' || code === 'EACCES') {
    return new LumenError('RECORD_FOLDER', `${what}: ${dir}: ${folderProblem(writable ?? code) ?? 'cannot be written'}`, { path: dir }, { cause: err });
  }
  return new LumenError('RECORD_WRITE', `${what}: ${messageOf(err)}`, { path: dir }, { cause: err });
}
