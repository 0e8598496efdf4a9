import { join } from 'node:path';
import { hasElement } from '../capture/gst.js';
import { elementsOf } from '../capture/template.js';
import type { Config } from '../config/schema.js';
import { freeMB } from '../record/disk.js';
import { PROFILES } from '../record/profiles.js';
import type { Check } from './checks.js';

/**
 * Recording (docs/recording.md): the encoder's elements and room on the state disk. A WARN at
 * most: the daemon alerts without recording.
 */
export async function recordChecks(config: Readonly<Config>): Promise<Check[]> {
  const r = config.record;
  if (!r.clips.enabled && !r.segments.enabled) return [{ name: 'recording', verdict: 'OK', detail: 'off (record.clips and record.segments disabled)' }];
  const p = PROFILES[r.encoder];
  const missing = [...new Set(elementsOf(`${p.encode({ gop: 15, kbps: r.bitrateKbps })} ! ${p.reparse} ! matroskamux`))].filter((e) => !hasElement(e));
  const out: Check[] = [
    missing.length
      ? {
          name: 'recording encoder',
          verdict: 'WARN',
          detail: `record.encoder ${r.encoder} needs ${missing.join(', ')}, not installed: alerts will name no clip`,
          action: 'install the GStreamer plugin that provides it, or set record.encoder to vp8',
        }
      : { name: 'recording encoder', verdict: 'OK', detail: `${r.encoder}: ${elementsOf(p.encode({ gop: 15, kbps: r.bitrateKbps })).join(', ')} present` },
  ];
  const free = await freeMB(config.state.dir);
  const min = r.retention.minFreeMB;
  if (free !== null && free < min + r.retention.quotaMB) {
    out.push({
      name: 'recording disk',
      verdict: 'WARN',
      detail: `${Math.round(free)} MB free in ${config.state.dir}, less than record.retention.quotaMB ${r.retention.quotaMB} + minFreeMB ${min}: recording may stop before retention makes room`,
      action: 'lower record.retention.quotaMB or free space on the state disk',
    });
  } else {
    out.push({
      name: 'recording disk',
      verdict: 'OK',
      detail: `${free === null ? '?' : Math.round(free)} MB free for ${join(config.state.dir, 'recordings')} (quota ${r.retention.quotaMB} MB)`,
    });
  }
  return out;
}
