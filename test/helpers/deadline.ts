/**
 * One time budget for a test file's waits, kept under tap's per-file timeout (.taprc, 240 s), so
 * a slow run fails on the wait that ran out — named — instead of as a bare file timeout.
 */
export class WaitBudget {
  readonly #end: number;

  constructor(readonly totalMs: number) {
    this.#end = Date.now() + totalMs;
  }

  /** `wantMs`, or what is left of the budget if that is less. */
  ms(wantMs: number): number {
    return Math.max(0, Math.min(wantMs, this.#end - Date.now()));
  }

  /** Resolves as `p` does, or rejects naming `what` after at most `wantMs`. */
  async within<T>(p: Promise<T>, wantMs: number, what: string): Promise<T> {
    const ms = this.ms(wantMs);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${ms} ms waiting for ${what}${ms < wantMs ? ` (the file's ${this.totalMs} ms wait budget ran out)` : ''}`)),
        ms,
      );
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
