import { readdirSync } from 'node:fs';

/** The daemon process's own footprint, for lumen.status (`process`) and the soak script. */
export interface ProcessUsage {
  /** Resident set size, MB (1 decimal). */
  rssMB: number;
  /** V8 heap in use and reserved, MB. */
  heapUsedMB: number;
  heapTotalMB: number;
  /** Memory held outside the V8 heap by Buffers and native addons, MB. */
  externalMB: number;
  arrayBuffersMB: number;
  /** Open file descriptors (null where /proc is absent). */
  fds: number | null;
}

const mb = (bytes: number) => Math.round(bytes / 104857.6) / 10;

export function processUsage(): ProcessUsage {
  const m = process.memoryUsage();
  let fds: number | null = null;
  try {
    fds = readdirSync('/proc/self/fd').length;
  } catch {
    // not Linux: left out
  }
  return { rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed), heapTotalMB: mb(m.heapTotal), externalMB: mb(m.external), arrayBuffersMB: mb(m.arrayBuffers), fds };
}
