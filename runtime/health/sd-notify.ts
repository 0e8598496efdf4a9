import { LumenError } from '../errors.js';
/**
 * systemd readiness and watchdog notifications (sd_notify(3)) over NOTIFY_SOCKET.
 *
 * NOTIFY_SOCKET is a Unix *datagram* socket and Node has no Unix datagram support (dgram is
 * UDP only; net is stream only). The datagrams are sent with the `unix-dgram` addon, from this
 * process, so systemd sees the main PID as the sender: `NotifyAccess=main` suffices, and there is
 * no race with a helper process that exits before PID 1 reads its message (the problem with
 * spawning `systemd-notify`, fixed only by its BARRIER=1 wait in systemd ≥ 246 and even then
 * needing `NotifyAccess=all`). This is the only file that loads `unix-dgram`.
 */
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';

/** A NOTIFY_SOCKET that cannot be used, or a notification that could not be sent. */
export class NotifyError extends LumenError {
  /** errno name (ENOENT, ECONNREFUSED, EAGAIN...) when the kernel refused the datagram. */
  readonly errno: string | undefined;

  constructor(message: string, errno?: string, options?: ErrorOptions) {
    super('NOTIFY', message, { errno }, options);
    this.name = 'NotifyError';
    this.errno = errno;
  }
}

// The slice of unix-dgram this module uses (the package ships no types).
interface DgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb: (err?: Error & { code?: unknown }) => void): void;
  close(): void;
  on(event: 'error', listener: (err: Error) => void): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram'): DgramSocket;
}

let addon: UnixDgram | undefined;

function loadAddon(): UnixDgram {
  if (addon) return addon;
  try {
    addon = createRequire(import.meta.url)('unix-dgram') as UnixDgram;
  } catch (err) {
    throw new NotifyError('the unix-dgram addon is not installed or not built: run npm install (allowScripts must permit unix-dgram)', undefined, {
      cause: err,
    });
  }
  return addon;
}

// sockaddr_un.sun_path is 108 bytes on Linux, NUL included; unix-dgram truncates silently.
const SUN_PATH_MAX = 107;

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

function errnoName(code: unknown): string | undefined {
  return typeof code === 'number' ? (errnoNames.get(-code) ?? errnoNames.get(code) ?? String(code)) : undefined;
}

/** Sends sd_notify(3) messages to the service manager at NOTIFY_SOCKET. */
export class SdNotifier {
  /** Path of the manager's socket (e.g. /run/systemd/notify). */
  readonly socketPath: string;
  #closed = false;

  private constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  /**
   * The notifier for NOTIFY_SOCKET, or null when not started by systemd with Type=notify.
   * Throws NotifyError for addresses this module cannot reach (abstract '@…', 'vsock:…', too long)
   * or when the addon is missing, so a misinstall fails at start rather than at TimeoutStartSec.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): SdNotifier | null {
    const socketPath = env.NOTIFY_SOCKET;
    if (!socketPath) return null;
    if (!socketPath.startsWith('/')) {
      // systemd itself always hands services a filesystem path; abstract and vsock addresses
      // come from other managers and containers, and unix-dgram cannot address them.
      throw new NotifyError(`NOTIFY_SOCKET=${socketPath} is not a filesystem path; only /… sockets are supported`);
    }
    if (Buffer.byteLength(socketPath) > SUN_PATH_MAX) {
      throw new NotifyError(`NOTIFY_SOCKET is longer than ${SUN_PATH_MAX} bytes: ${socketPath}`);
    }
    loadAddon();
    return new SdNotifier(socketPath);
  }

  /** READY=1: start-up finished (capture running, models warm); optional STATUS= text. */
  ready(status?: string): Promise<void> {
    return this.#send('READY=1', status);
  }

  /** WATCHDOG=1: the service is alive; send at least every WatchdogSec (see Watchdog). */
  watchdog(): Promise<void> {
    return this.#send('WATCHDOG=1');
  }

  /** STATUS=text: one line shown by `systemctl status`. */
  status(text: string): Promise<void> {
    return this.#send(undefined, text);
  }

  /** STOPPING=1: shutdown has begun; optional STATUS= text. */
  stopping(status?: string): Promise<void> {
    return this.#send('STOPPING=1', status);
  }

  /**
   * EXTEND_TIMEOUT_USEC: the start (or stop) timeout now ends no sooner than `ms` from now; repeat
   * before it runs out during long work such as a TensorRT engine build. Needs systemd ≥ 236.
   */
  extendTimeout(ms: number, status?: string): Promise<void> {
    if (!Number.isFinite(ms) || ms <= 0) return Promise.reject(new NotifyError(`extendTimeout: ${ms} is not a positive ms count`));
    return this.#send(`EXTEND_TIMEOUT_USEC=${Math.round(ms * 1000)}`, status);
  }

  /** Stops sending; later calls reject. Safe to call twice. Holds no OS resource between sends. */
  close(): void {
    this.#closed = true;
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  #send(assignment: string | undefined, status?: string): Promise<void> {
    const lines: string[] = [];
    if (assignment) lines.push(assignment);
    // A newline in STATUS= would start a new assignment (READY=1, MAINPID=…): flatten it.
    if (status !== undefined) lines.push(`STATUS=${status.replace(/[\r\n]+/g, ' ')}`);
    const message = lines.join('\n');
    if (this.#closed) return Promise.reject(new NotifyError(`SdNotifier is closed: cannot send ${message}`));
    return new Promise<void>((resolve, reject) => {
      // A socket per message, like libsystemd: nothing keeps the event loop alive between sends,
      // and a `systemctl daemon-reexec` that recreates the socket is picked up by path.
      let sock: DgramSocket;
      try {
        sock = loadAddon().createSocket('unix_dgram');
      } catch (err) {
        reject(err instanceof NotifyError ? err : new NotifyError(`cannot create a Unix datagram socket`, undefined, { cause: err }));
        return;
      }
      sock.on('error', () => {}); // errors arrive through the send callback
      const buf = Buffer.from(message);
      sock.send(buf, 0, buf.length, this.socketPath, (err) => {
        try {
          sock.close();
        } catch {
          // closing a socket that failed to send may report EBADF; nothing is left to release
        }
        if (err) {
          const name = errnoName(err.code);
          reject(new NotifyError(`cannot send ${message.split('\n')[0]} to ${this.socketPath}: ${name}`, name, { cause: err }));
        } else {
          resolve();
        }
      });
    });
  }
}

/**
 * How often to send WATCHDOG=1, in ms: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises.
 * null when the unit has no WatchdogSec=, or WATCHDOG_PID names another process.
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number | null {
  const usecText = env.WATCHDOG_USEC;
  if (!usecText || !/^\d+$/.test(usecText)) return null;
  const usec = Number(usecText);
  if (usec <= 0) return null;
  // WATCHDOG_PID tells which process the watchdog is for; a child that inherited it must not ping.
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== String(pid)) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

/** Where Watchdog sends its pings: an SdNotifier, or a test double. */
export interface WatchdogSink {
  watchdog(): Promise<void>;
}

/** What one Watchdog tick did. */
export interface WatchdogTick {
  /** True when a WATCHDOG=1 was sent (the frame marker moved since the last tick). */
  pinged: boolean;
  /** Frames marked since the previous tick. */
  progressed: number;
  /** The send failure, when the ping could not be delivered. */
  error?: Error;
}

/** Options for Watchdog. */
export interface WatchdogOptions {
  /** Tick period in ms; use watchdogIntervalMs() (half of WatchdogSec). */
  intervalMs: number;
  /** Called after every tick, e.g. to log a failed ping or count skipped ones. */
  onTick?: (tick: WatchdogTick) => void;
}

/**
 * Pings WATCHDOG=1 only if progress() was called since the previous tick, so a hung capture or
 * inference loop stops the pings and systemd restarts the service after WatchdogSec.
 */
export class Watchdog {
  readonly intervalMs: number;
  readonly #sink: WatchdogSink;
  readonly #onTick: ((tick: WatchdogTick) => void) | undefined;
  #marker = 0;
  #markerAtLastTick = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(sink: WatchdogSink, options: WatchdogOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError(`Watchdog intervalMs must be > 0, got ${options.intervalMs}`);
    this.#sink = sink;
    this.intervalMs = options.intervalMs;
    this.#onTick = options.onTick;
  }

  /** Marks that a frame made it through inference (cheap: call it per frame). */
  progress(): void {
    this.#marker++;
  }

  /** Starts ticking every intervalMs. Idempotent; no-op after close(). */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#markerAtLastTick = this.#marker;
    this.#timer = setInterval(() => void this.tick(), this.intervalMs);
    // The pipeline keeps the process alive, not its watchdog.
    this.#timer.unref();
  }

  /** One ping decision; the timer calls it, tests may too. Never rejects. */
  async tick(): Promise<WatchdogTick> {
    const progressed = this.#marker - this.#markerAtLastTick;
    this.#markerAtLastTick = this.#marker;
    let tick: WatchdogTick = { pinged: false, progressed };
    if (progressed > 0 && !this.#closed) {
      try {
        await this.#sink.watchdog();
        tick = { pinged: true, progressed };
      } catch (err) {
        tick = { pinged: false, progressed, error: err instanceof Error ? err : new Error(String(err)) };
      }
    }
    this.#onTick?.(tick);
    return tick;
  }

  /** Stops ticking. Safe to call twice; does not close the sink. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
