import { annotationsPathFor, loadAnnotations } from '../annotations.js';
import { checkConfigPaths } from './check-paths.js';
import { parseConfig } from './load.js';
import { DEMO_FEED } from './paths.js';
import type { Config } from './schema.js';

/**
 * The built-in default: the demo feed and the bundled models. The demo's video processor burns
 * text in over the picture's edge, as real ones do, so the default masks the text regions its
 * annotations list — what a site does with `lumen frame inspect` and `roi.privacyMasks`.
 */
export async function builtInConfig(): Promise<Readonly<Config>> {
  const regions = await loadAnnotations(annotationsPathFor(DEMO_FEED))
    .then((a) => a.textRegions ?? [])
    .catch(() => []);
  const privacyMasks = regions.map((r) => ({
    x: Math.max(0, Math.floor(r.x)),
    y: Math.max(0, Math.floor(r.y)),
    width: Math.ceil(r.width),
    height: Math.ceil(r.height),
  }));
  const config = parseConfig({ roi: { privacyMasks } }, 'built-in default');
  checkConfigPaths(config, 'built-in default');
  return config;
}
