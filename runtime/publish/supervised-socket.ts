import type { Logger } from '../log.js';
import { messageOf } from '../errors.js';
import type { SocketHealth } from './health.js';

interface Closable {
  close(): void;
}

export interface SupervisedSocketSpec<S extends Closable> {
  /** Names the socket in logs and in status (e.g. "history"). */
  name: string;
  /** Creates and binds the socket; resolves once it is bound. */
  open: () => Promise<S>;
  /**
   * Serves the socket until it fails (throws) or ends. Without it the socket has no loop of
   * its own and is re-created when `fault()` is called (a PUB socket whose send failed).
   */
  serve?: (socket: S) => Promise<void>;
  /** First wait before a re-creation, ms (default 100); doubles per failure up to maxDelayMs. */
  minDelayMs?: number;
  /** Longest wait between re-creations, ms (default 5000). */
  maxDelayMs?: number;
}

/** A socket that served this long before failing starts its back-off again from the minimum. */
const STABLE_MS = 30_000;

/**
 * Keeps one socket loop alive: when the loop throws or ends while not closed, the failure is
 * logged and counted, the socket is closed and re-created (bind retried with back-off until it
 * succeeds), and the loop starts again. `health()` says how it is doing, for lumen.status.
 */
export class SupervisedSocket<S extends Closable> {
  private current: S | null;
  private closed = false;
  private readonly h: SocketHealth = { state: 'ok', restarts: 0, failures: 0, lastError: null, lastErrorAt: null };
  private faultHandler: ((err: unknown) => void) | undefined;
  private wake: (() => void) | undefined;
  private done: Promise<void> = Promise.resolve();
  private renewing: string | null = null;

  private constructor(
    private readonly spec: SupervisedSocketSpec<S>,
    private readonly log: Logger,
    first: S,
  ) {
    this.current = first;
  }

  /** Opens the socket (a failure here is thrown: the daemon cannot start) and starts its loop. */
  static async open<S extends Closable>(spec: SupervisedSocketSpec<S>, log: Logger): Promise<SupervisedSocket<S>> {
    const s = new SupervisedSocket(spec, log, await spec.open());
    s.done = s.run();
    return s;
  }

  /** The live socket, or null while it is being re-created. */
  get socket(): S | null {
    return this.current;
  }

  health(): SocketHealth {
    return { ...this.h };
  }

  /** A failure seen outside the loop (e.g. a send): the socket is re-created. */
  fault(err: unknown): void {
    if (this.closed || !this.current) return;
    if (this.faultHandler) this.faultHandler(err);
  }

  /**
   * Replaces the socket on purpose (not a failure): every connection goes, and clients that are
   * still allowed reconnect — e.g. after a monitor's key was removed from the allow-list.
   */
  renew(reason: string): void {
    if (this.closed || !this.current || !this.faultHandler) return;
    this.renewing = reason;
    this.faultHandler(new Error(reason));
  }

  private async run(): Promise<void> {
    let delay = this.spec.minDelayMs ?? 100;
    const maxDelay = this.spec.maxDelayMs ?? 5000;
    while (!this.closed && this.current) {
      const socket = this.current;
      const since = Date.now();
      let failure: unknown = new Error('socket loop ended');
      try {
        await new Promise<void>((resolve, reject) => {
          this.faultHandler = reject;
          if (this.spec.serve) this.spec.serve(socket).then(resolve, reject);
        });
      } catch (err) {
        failure = err;
      }
      this.faultHandler = undefined;
      if (this.closed) return;
      if (Date.now() - since >= STABLE_MS || this.renewing) delay = this.spec.minDelayMs ?? 100;
      if (this.renewing) this.log.info({ socket: this.spec.name, reason: this.renewing }, `${this.spec.name} socket renewed`);
      else {
        this.record(failure);
        this.log.error({ socket: this.spec.name, err: messageOf(failure), failures: this.h.failures }, `${this.spec.name} socket failed; re-creating it`);
      }
      const renewed = this.renewing !== null;
      this.renewing = null;
      this.current = null;
      this.h.state = 'restarting';
      socket.close();
      while (!this.closed && !this.current) {
        await this.sleep(delay);
        delay = Math.min(delay * 2, maxDelay);
        if (this.closed) return;
        try {
          const fresh = await this.spec.open();
          if (this.closed) fresh.close();
          else this.current = fresh;
        } catch (err) {
          this.record(err);
          this.log.warn({ socket: this.spec.name, err: messageOf(err), retryInMs: delay }, `${this.spec.name} socket cannot be re-created yet`);
        }
      }
      if (this.current && renewed) this.h.state = 'ok';
      else if (this.current) {
        this.h.restarts++;
        this.h.state = 'ok';
        this.log.info({ socket: this.spec.name, restarts: this.h.restarts }, `${this.spec.name} socket re-created`);
      }
    }
  }

  private record(err: unknown): void {
    this.h.failures++;
    this.h.lastError = messageOf(err);
    this.h.lastErrorAt = Date.now();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Closes the socket and stops supervising it; resolves when its loop has ended. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.h.state = 'closed';
    this.wake?.();
    this.faultHandler?.(new Error('closed'));
    this.current?.close();
    this.current = null;
    await this.done;
  }
}
