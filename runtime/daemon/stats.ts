import type { Percentiles } from '../publish/protocol.js';

/** A bounded window of recent samples per name (e.g. per stage), for p50/p99. */
export class RollingStats {
  private readonly windows = new Map<string, number[]>();

  constructor(private readonly size = 300) {}

  add(name: string, value: number): void {
    let w = this.windows.get(name);
    if (!w) this.windows.set(name, (w = []));
    w.push(value);
    if (w.length > this.size) w.shift();
  }

  percentiles(name: string): Percentiles {
    const w = this.windows.get(name);
    if (!w?.length) return { p50: 0, p99: 0 };
    return { p50: percentile(w, 0.5), p99: percentile(w, 0.99) };
  }

  all(): Record<string, Percentiles> {
    const out: Record<string, Percentiles> = {};
    for (const k of this.windows.keys()) out[k] = this.percentiles(k);
    return out;
  }
}

/** Nearest-rank percentile of unsorted values, rounded to 0.1. */
export function percentile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const v = s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return Math.round(v * 10) / 10;
}
