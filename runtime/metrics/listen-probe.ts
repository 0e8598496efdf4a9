import { createServer } from 'node:net';
import { parseListenAddress } from './address.js';

/** Listens on "host:port" and closes again: null if that worked, else the error code (EADDRINUSE, …). */
export function listenProbe(address: string): Promise<string | null> {
  const a = parseListenAddress(address);
  if (!a) return Promise.resolve('EINVAL');
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'ERROR'));
    srv.listen(a.port, a.host, () => srv.close(() => resolve(null)));
  });
}
