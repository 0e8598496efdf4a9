// config/: the one config schema (a section per stage, unknown keys refused, defaults stated), its
// loading and checks, the built-in default and the project's paths.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { LumenError, errnoOf } from '../errors.js';
import type { Config } from './schema.js';

type Kind = 'folder' | 'creatable folder' | 'file';

/** What stands at `path`: a folder, a file, nothing, or something else (socket, device…). */
function what(path: string): 'folder' | 'file' | 'missing' | 'other' {
  try {
    const s = statSync(path);
    return s.isDirectory() ? 'folder' : s.isFile() ? 'file' : 'other';
  } catch (err) {
    // ENOTDIR: a file stands where a folder above it should be; the walk up names it.
    const code = errnoOf(err);
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'other';
  }
}

/** Why `path` cannot be the `kind` it must be, or null when it can. */
function problem(path: string, kind: Kind): string | null {
  const is = what(path);
  if (kind === 'file') return is === 'folder' ? `${path} is a folder, not a file` : null;
  if (is === 'file') return `${path} is a file, not a folder`;
  if (is === 'other') return `${path} is not a folder (or cannot be read)`;
  if (kind === 'folder') return null; // a missing bundle folder is reported by the bundle loader, naming the file
  // Missing: the nearest existing ancestor must be a folder this process may write in.
  let at = path;
  while (what(at) === 'missing' && dirname(at) !== at) at = dirname(at);
  const top = what(at);
  if (top !== 'folder') return `${path} cannot be made: ${at} is not a folder`;
  try {
    accessSync(at, is === 'missing' ? constants.W_OK | constants.X_OK : constants.W_OK);
  } catch {
    return is === 'missing' ? `${path} cannot be made: ${at} is not writable` : `${path} is not writable`;
  }
  return null;
}

/**
 * Checks that every path in the config can be what it must be: state and cache folders are
 * folders (or can be made), bundle folders are not files, key and feed files are not folders.
 * Throws CONFIG_PATH naming the key and what is wrong; `source` names the config.
 */
export function checkConfigPaths(c: Readonly<Config>, source: string): void {
  const checks: [string, string, Kind][] = [
    ['state.dir', c.state.dir, 'creatable folder'],
    ['inference.classifier', c.inference.classifier, 'folder'],
    ['inference.segmenter', c.inference.segmenter, 'folder'],
    ...c.inference.trustedKeys.map((k, i): [string, string, Kind] => [`inference.trustedKeys.${i}`, k, 'file']),
  ];
  // TensorRT writes its caches only when it is in the provider list.
  if (c.inference.providers.includes('tensorrt')) {
    checks.push(['inference.tensorrt.engineCacheDir', c.inference.tensorrt.engineCacheDir, 'creatable folder']);
    checks.push(['inference.tensorrt.timingCacheDir', c.inference.tensorrt.timingCacheDir, 'creatable folder']);
  }
  if (c.publish.curve.enabled) checks.push(['publish.curve.keyFile', c.publish.curve.keyFile, 'file']);
  if (c.capture.params.location) checks.push(['capture.params.location', c.capture.params.location, 'file']);
  const problems = checks.flatMap(([key, path, kind]) => {
    const p = problem(path, kind);
    return p ? [`${key}: ${p}`] : [];
  });
  if (problems.length) throw new LumenError('CONFIG_PATH', `${source}: ${problems.join('; ')}`, { source, problems });
}
