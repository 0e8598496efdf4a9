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
  await s.bind(endpoint).catch((err: unknown) => {
    s.close();
    throw err;
  });
  return s;
}

export async function bindReply(endpoint: string, curve?: CurveServer): Promise<zmq.Reply> {
  const s = new zmq.Reply({ linger: 0, ...(curve ? { curveServer: true, curveSecretKey: curve.secretKey } : {}) });
  await s.bind(endpoint).catch((err: unknown) => {
    s.close();
    throw err;
  });
  return s;
}

export function connectSubscriber(endpoint: string, prefixes: readonly string[], receiveHighWaterMark = 1000, curve?: CurveClient): zmq.Subscriber {
  const s = new zmq.Subscriber({ receiveHighWaterMark, linger: 0, ...(curve ? curveOpts(curve) : {}) });
  if (curve) retryRefusedHandshake(s, endpoint);
  s.connect(endpoint);
  for (const p of prefixes) s.subscribe(p);
  return s;
}

/** How often a CURVE client whose key the server refused tries again, ms. */
export const AUTH_RETRY_MS = 1000;

/**
 * libzmq gives up on a connection whose CURVE handshake the server refused (ZAP status 400): a
 * monitor enrolled after its first attempt would stay out until it was restarted. Reconnect
 * it every AUTH_RETRY_MS instead; each attempt passes the daemon's current allow-list.
 */
function retryRefusedHandshake(s: zmq.Subscriber, endpoint: string): void {
  let timer: NodeJS.Timeout | undefined;
  s.events.on('handshake:error:auth', () => {
    if (timer || s.closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (s.closed) return;
      try {
        s.disconnect(endpoint);
      } catch {
        // already gone: libzmq dropped the endpoint with the refused session
      }
      try {
        s.connect(endpoint);
      } catch {
        // closed meanwhile
      }
    }, AUTH_RETRY_MS);
    timer.unref();
  });
}

export function connectRequest(endpoint: string, timeoutMs: number, curve?: CurveClient): zmq.Request {
  const s = new zmq.Request({ receiveTimeout: timeoutMs, sendTimeout: timeoutMs, linger: 0, ...(curve ? curveOpts(curve) : {}) });
  s.connect(endpoint);
  return s;
}

/**
 * Drops every connection a bound socket has accepted and binds again: libzmq's unbind closes the
 * sessions made through that endpoint, and the peers reconnect (every 100 ms) and pass the ZAP
 * handler again. This is how a revoked CURVE key loses an established connection. The socket
 * must not be sending meanwhile (zeromq.js throws EBUSY): callers serialise it with their sends.
 */
export async function rebind(socket: zmq.Publisher | zmq.Reply, endpoint: string): Promise<void> {
  await socket.unbind(endpoint);
  // The listener closes on libzmq's I/O thread: the port may be busy for a moment.
  for (let attempt = 0; ; attempt++) {
    try {
      await socket.bind(endpoint);
      return;
    } catch (err) {
      if (attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * Closes a Reply socket (dropping its connections; a `for await` over it ends) and binds a new
 * one with the same CURVE setting on the same endpoint, once libzmq has released the port.
 */
export async function reopenReply(old: zmq.Reply, endpoint: string, curve?: CurveServer): Promise<zmq.Reply> {
  old.close();
  for (let attempt = 0; ; attempt++) {
    try {
      return await bindReply(endpoint, curve);
    } catch (err) {
      if (attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** The endpoint a bound socket really listens on (a wildcard port resolved). */
export function boundEndpoint(socket: zmq.Publisher | zmq.Reply, configured: string): string {
  return socket.lastEndpoint ?? configured;
}

function curveOpts(c: CurveClient) {
  return { curveServerKey: c.serverKey, curvePublicKey: c.publicKey, curveSecretKey: c.secretKey };
}

/**
 * Authenticates CURVE clients (ZAP, ZeroMQ RFC 27): a Reply socket on the well-known inproc
 * endpoint of the process's ZeroMQ context. `allow` receives the client's public key (Z85) at
 * each handshake and is asked afresh every time, so the set behind it can be swapped at run time
 * (runtime/publish/allow-list.ts). Returns a stop function.
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
