import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installation root: the folder holding package.json, pipelines/ and models/. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []));

export const PIPELINES_DIR = join(PROJECT_ROOT, 'pipelines');
export const MODELS_DIR = join(PROJECT_ROOT, 'models');
/** Where the demo feed is made at set-up. */
export const DEMO_FEED = join(PROJECT_ROOT, 'var', 'feeds', 'demo.mkv');
/** systemd's StateDirectory= and CacheDirectory= when run as a service; the project's var/ otherwise. */
export const STATE_DIR = process.env.STATE_DIRECTORY ?? join(PROJECT_ROOT, 'var', 'state');
export const CACHE_DIR = process.env.CACHE_DIRECTORY ?? join(PROJECT_ROOT, 'var', 'cache');
