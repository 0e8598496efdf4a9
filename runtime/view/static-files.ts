import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config/paths.js';
import { messageOf, errnoOf } from '../errors.js';

/**
 * The page's files, served from the source folder (tsc does not copy them to dist/), so the
 * same path works from a checkout and from an installed tree.
 */
export const PUBLIC_DIR = join(PROJECT_ROOT, 'runtime', 'view', 'public');

/** URL path → file name and content type. Only these are served: no directory walking. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/connection.js': { file: 'connection.js', type: 'text/javascript; charset=utf-8' },
  '/link-state.js': { file: 'link-state.js', type: 'text/javascript; charset=utf-8' },
  '/overlay-draw.js': { file: 'overlay-draw.js', type: 'text/javascript; charset=utf-8' },
  '/side-panel.js': { file: 'side-panel.js', type: 'text/javascript; charset=utf-8' },
  '/sound.js': { file: 'sound.js', type: 'text/javascript; charset=utf-8' },
  '/state.js': { file: 'state.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export interface StaticFile {
  body: Buffer;
  type: string;
}

/** Reads every page file once; fails naming the missing file (an incomplete installation). */
export async function loadStaticFiles(dir = PUBLIC_DIR): Promise<Map<string, StaticFile>> {
  const out = new Map<string, StaticFile>();
  const cache = new Map<string, Buffer>();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    let body = cache.get(file);
    if (!body) {
      try {
        body = await readFile(join(dir, file));
      } catch (err) {
        throw new Error(`viewer page file ${join(dir, file)} cannot be read (${errnoOf(err) ?? messageOf(err)}): the installation is incomplete`);
      }
      cache.set(file, body);
    }
    out.set(path, { body, type });
  }
  return out;
}
