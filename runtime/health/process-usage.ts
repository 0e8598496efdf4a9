import { readdirSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';

/**
 * V8's collections since the first reading: a full mark-compact stops the frame loop for
 * milliseconds, so how often it runs is part of the frame path's figures (npm run bench).
 */
export interface GcCounts {
  /** Mark-compacts and their pause, ms. */
  full: number;
  fullMs: number;
  /** Scavenges (young generation) and their pause, ms. */
  young: number;
  youngMs: number;
}

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
  gc: GcCounts;
}

const gc: GcCounts = { full: 0, fullMs: 0, young: 0, youngMs: 0 };
let observer: PerformanceObserver | null = null;

function countGc(): void {
  if (observer) return;
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        gc.full++;
        gc.fullMs += e.duration;
      } else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        gc.young++;
        gc.youngMs += e.duration;
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
}

const mb = (bytes: number) => Math.round(bytes / 104857.6) / 10;

export function processUsage(): ProcessUsage {
  countGc();
  const m = process.memoryUsage();
  let fds: number | null = null;
  try {
    fds = readdirSync('/proc/self/fd').length;
  } catch {
    // not Linux: left out
  }
  return {
    rssMB: mb(m.rss),
    heapUsedMB: mb(m.heapUsed),
    heapTotalMB: mb(m.heapTotal),
    externalMB: mb(m.external),
    arrayBuffersMB: mb(m.arrayBuffers),
    fds,
    gc: { ...gc, fullMs: Math.round(gc.fullMs), youngMs: Math.round(gc.youngMs) },
  };
}
