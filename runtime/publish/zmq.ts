/**
 * The one file that imports zeromq (v6). Its quirks live here:
 * - a socket takes one send at a time ("socket busy" otherwise): callers serialise sends;
 * - a PUB socket never blocks: at the high-water mark it drops for that subscriber;
 * - `for await` over a socket ends when it is closed; a receive timeout throws EAGAIN.
 */
import * as zmq from 'zeromq';

export type Frames = (Buffer | string)[];

/** CURVE keys (Z85), for encrypted and authenticated sockets. */
export interface CurveServer {
  secretKey: string;
}
export interface CurveClient {
  serverKey: string;
  publicKey: string;
  secretKey: string;
}

export function curveSupported(): boolean {
  return zmq.capability.curve === true;
}

export function zmqVersion(): string {
  return zmq.version;
}

export function curveKeyPair(): { publicKey: string; secretKey: string } {
  return zmq.curveKeyPair();
}

export async function bindPublisher(endpoint: string, sendHighWaterMark: number, curve?: CurveServer): Promise<zmq.Publisher> {
  const s = new zmq.Publisher({ sendHighWaterMark, linger: 500, ...(curve ? { curveServer: true, curveSecretKey: curve.secretKey } : {}) });
  await s.bind(endpoint);
  return s;
}

export async function bindReply(endpoint: string, curve?: CurveServer): Promise<zmq.Reply> {
  const s = new zmq.Reply({ linger: 0, ...(curve ? { curveServer: true, curveSecretKey: curve.secretKey } : {}) });
  await s.bind(endpoint);
  return s;
}

export function connectSubscriber(endpoint: string, prefixes: readonly string[], receiveHighWaterMark = 1000, curve?: CurveClient): zmq.Subscriber {
  const s = new zmq.Subscriber({ receiveHighWaterMark, linger: 0, ...(curve ? curveOpts(curve) : {}) });
  s.connect(endpoint);
  for (const p of prefixes) s.subscribe(p);
  return s;
}

export function connectRequest(endpoint: string, timeoutMs: number, curve?: CurveClient): zmq.Request {
  const s = new zmq.Request({ receiveTimeout: timeoutMs, sendTimeout: timeoutMs, linger: 0, ...(curve ? curveOpts(curve) : {}) });
  s.connect(endpoint);
  return s;
}

function curveOpts(c: CurveClient) {
  return { curveServerKey: c.serverKey, curvePublicKey: c.publicKey, curveSecretKey: c.secretKey };
}

/**
 * Authenticates CURVE clients (ZAP, ZeroMQ RFC 27): a Reply socket on the well-known inproc
 * endpoint of the process's ZeroMQ context. `allow` receives the client's public key (Z85).
 * Returns a stop function.
 */
export async function startZapHandler(allow: (clientKeyZ85: string, mechanism: string) => boolean, encode: (b: Uint8Array) => string): Promise<() => void> {
  const zap = new zmq.Reply({ linger: 0 });
  await zap.bind('inproc://zeromq.zap.01');
  void (async () => {
    try {
      for await (const [version, requestId, , , , mechanism, credentials] of zap) {
        const mech = mechanism?.toString() ?? '';
        const key = credentials && credentials.length === 32 ? encode(credentials) : '';
        const ok = mech === 'CURVE' && key !== '' && allow(key, mech);
        await zap.send([version, requestId, ok ? '200' : '400', ok ? 'OK' : 'client key not listed', ok ? key : '', '']);
      }
    } catch {
      // closed
    }
  })();
  return () => zap.close();
}

export type { Publisher, Subscriber, Reply, Request } from 'zeromq';
