// metrics/: Prometheus metrics: counters and gauges from the numbers status publishes, and their HTTP server.
/** A listen address "host:port" (IPv6 as "[::1]:9464"); port 0 picks a free one. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses "host:port"; returns null when it is not one. */
export function parseListenAddress(s: string): ListenAddress | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: m[1] ?? m[2], port };
}
