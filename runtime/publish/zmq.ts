/**
 * The one file that imports zeromq (v6). Its quirks live here:
 * - a socket takes one send at a time ("socket busy" otherwise): callers serialise sends;
 * - a PUB socket never blocks: at the high-water mark it drops for that subscriber;
 * - `for await` over a socket ends when it is closed; a receive timeout throws EAGAIN;
 * - a Reply socket fails receives with a spurious EAGAIN for each TCP peer that sends bytes which
 *   are not ZMTP, and then loses replies: the history endpoint is a Router instead (no state
 *   machine to corrupt; replies to peers that are gone are dropped);
 * - libzmq still speaks ZMTP 1.0, in which random bytes can parse as messages: every socket that
 *   binds caps the message size it accepts.
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

/** Largest message a subscriber may send the PUB socket (its subscriptions), bytes. */
const PUB_MAX_INBOUND_BYTES = 4096;
/** Largest history request accepted, bytes (a valid one is under 100). */
const HISTORY_MAX_REQUEST_BYTES = 65536;
/** Replies queued per history peer before further ones are dropped (a peer that never reads). */
const HISTORY_SEND_HWM = 100;

export async function bindPublisher(endpoint: string, sendHighWaterMark: number, curve?: CurveServer): Promise<zmq.Publisher> {
  const s = new zmq.Publisher({
    sendHighWaterMark,
    linger: 500,
    maxMessageSize: PUB_MAX_INBOUND_BYTES,
    ...(curve ? { curveServer: true, curveSecretKey: curve.secretKey } : {}),
  });
  try {
    await s.bind(endpoint);
  } catch (err) {
    s.close();
    throw err;
  }
  return s;
}

/**
 * The history endpoint: a Router that REQ clients talk to. Each received message is
 * [routing id, envelope…, empty delimiter, body…]; a reply repeats everything up to the delimiter.
 */
export async function bindHistory(endpoint: string, curve?: CurveServer): Promise<zmq.Router> {
  const s = new zmq.Router({
    linger: 0,
    maxMessageSize: HISTORY_MAX_REQUEST_BYTES,
    sendHighWaterMark: HISTORY_SEND_HWM,
    ...(curve ? { curveServer: true, curveSecretKey: curve.secretKey } : {}),
  });
  try {
    await s.bind(endpoint);
  } catch (err) {
    s.close();
    throw err;
  }
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

function curveOpts(c: CurveClient) {
  return { curveServerKey: c.serverKey, curvePublicKey: c.publicKey, curveSecretKey: c.secretKey };
}

/** The ZAP endpoint (ZeroMQ RFC 27) of the process's ZeroMQ context, where CURVE clients are vetted. */
export async function bindZap(): Promise<zmq.Reply> {
  const zap = new zmq.Reply({ linger: 0 });
  await zap.bind('inproc://zeromq.zap.01');
  return zap;
}

/**
 * Answers ZAP requests until the socket closes: `allow` receives the client's public key (Z85).
 * Throws when the socket fails (the caller re-creates it).
 */
export async function serveZap(zap: zmq.Reply, allow: (clientKeyZ85: string, mechanism: string) => boolean, encode: (b: Uint8Array) => string): Promise<void> {
  for await (const [version, requestId, , , , mechanism, credentials] of zap) {
    const mech = mechanism?.toString() ?? '';
    const key = credentials && credentials.length === 32 ? encode(credentials) : '';
    const ok = mech === 'CURVE' && key !== '' && allow(key, mech);
    await zap.send([version, requestId, ok ? '200' : '400', ok ? 'OK' : 'client key not listed', ok ? key : '', '']);
  }
}

export type { Publisher, Subscriber, Reply, Request, Router } from 'zeromq';
