// util/: helpers with no stage of their own: image encoding and decoding (sharp), seeded random
// numbers, a free TCP port.
import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on 127.0.0.1 (the kernel's pick), for endpoints of a
 * daemon started by a test, a benchmark or a soak. Another process may take it before it is used.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
