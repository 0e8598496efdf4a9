import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// The socket peer is Python's socket module (Debian package python3): independent of the addon
// under test, and it reads the sender's PID from SCM_CREDENTIALS the way PID 1 does.
const LISTENER = String.raw`
import json, select, socket, struct, sys, time
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
print(json.dumps({"event": "listening"}), flush=True)
while True:
    ready, _, _ = select.select([s, sys.stdin], [], [])
    if sys.stdin in ready and not sys.stdin.readline():
        break  # the test closed stdin or died: never outlive it
    if s in ready:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = None
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", cdata[:12])[0]
        print(json.dumps({"event": "message", "text": data.decode(), "pid": pid, "t": time.monotonic() * 1000}), flush=True)
`;

/** A datagram the listener received: its text, the sender's PID (SCM_CREDENTIALS), when (monotonic ms). */
export interface NotifyMessage {
  event: 'message';
  text: string;
  pid: number | null;
  t: number;
}

/** What the listener prints: that it is bound, then each datagram. */
export type ListenerLine = { event: 'listening' } | NotifyMessage;

/** A line of a child's stdout that is not JSON, kept as it came. */
export interface NonJsonLine {
  event: 'non-json';
  text: string;
}

/**
 * JSON lines from a child's stdout (L: what the child prints, the listener's lines by default),
 * with waits that fail after a deadline instead of sleeping.
 */
export class Lines<L extends { event: string } = ListenerLine> {
  readonly all: Array<L | NonJsonLine> = [];
  #waiters: Array<() => void> = [];
  #exited = false;

  constructor(
    readonly name: string,
    child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        this.all.push(JSON.parse(text) as L);
      } catch {
        this.all.push({ event: 'non-json', text });
      }
      this.#wake();
    });
    child.on('exit', () => {
      this.#exited = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves with the first line index >= from where pred holds; rejects after ms. */
  async waitFor(description: string, pred: (line: L | NonJsonLine) => boolean, ms = 60_000, from = 0): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.all.findIndex((line, idx) => idx >= from && pred(line));
      if (i >= 0) return i;
      if (this.#exited) throw new Error(`${this.name} exited before: ${description}; saw ${JSON.stringify(this.all)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: timed out waiting for ${description}; saw ${JSON.stringify(this.all)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export function killOnTeardown(tt: Pick<typeof t, 'teardown'>, child: ChildProcess): void {
  tt.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
  });
}

export async function startListener(tt: Pick<typeof t, 'teardown' | 'fail'>): Promise<{ socketPath: string; lines: Lines }> {
  // mkdtemp under /tmp keeps the path far below sun_path's 107 bytes (.tap/fixtures may not).
  const dir = mkdtempSync(join(tmpdir(), 'lumen-notify-'));
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'notify');
  const py = spawn('python3', ['-u', '-c', LISTENER, socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  py.on('error', (err) => tt.fail(`python3 could not start (the setup must install Debian's python3): ${err.message}`));
  killOnTeardown(tt, py);
  const lines = new Lines<ListenerLine>('listener', py);
  await lines.waitFor('the listener to bind', (l) => l.event === 'listening');
  return { socketPath, lines };
}
