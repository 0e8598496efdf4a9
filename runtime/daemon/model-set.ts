import type { Config } from '../config/schema.js';
import { isLumenError, messageOf } from '../errors.js';
import type { ModelSession } from '../inference/model-session.js';
import type { Logger } from '../log.js';
import type { ModelReloadStatus, ProviderAttemptStatus, StatusHeader } from '../publish/protocol.js';
import { openSessions } from '../pipeline/sessions.js';

/** The outcome of the last reload, as status reports it. */
export type ReloadResult = ModelReloadStatus;

/**
 * The model sessions in use, and hot swaps: a reload opens the configured bundles again, and the
 * new sessions replace the running ones between two frames, only if every bundle verified and
 * opened; a refused bundle leaves the running ones in place.
 */
export class ModelSet {
  private pending: ModelSession[] | null = null;
  private lastReload: ReloadResult | undefined;
  private closed = false;

  constructor(
    private readonly config: Readonly<Config>,
    private readonly log: Logger,
    private current: ModelSession[],
  ) {}

  get sessions(): readonly ModelSession[] {
    return this.current;
  }

  /** Whether a reload is waiting for the end of the frame in flight. */
  get swapPending(): boolean {
    return this.pending !== null;
  }

  /** Re-opens the configured bundles; true when they verified and will be swapped in. */
  async reload(): Promise<boolean> {
    let fresh: ModelSession[];
    try {
      fresh = await openSessions(this.config, this.log);
    } catch (err) {
      const code = isLumenError(err) ? err.code : undefined;
      this.lastReload = { at: Date.now(), ok: false, ...(code ? { code } : {}), message: messageOf(err) };
      this.log.error({ code, err: messageOf(err) }, 'model reload refused; the running models stay in place');
      return false;
    }
    this.lastReload = { at: Date.now(), ok: true };
    if (this.closed) await Promise.all(fresh.map((f) => f.close()));
    else {
      // A second reload before the swap replaces the first one's sessions.
      const superseded = this.pending;
      this.pending = fresh;
      if (superseded) await Promise.all(superseded.map((s) => s.close()));
    }
    return true;
  }

  /** Swaps the reloaded sessions in (between two frames): `use` adopts them, then the old ones close. */
  async swap(use: (sessions: readonly ModelSession[]) => void): Promise<void> {
    const fresh = this.pending;
    if (!fresh) return;
    this.pending = null;
    const old = this.current;
    this.current = fresh;
    use(fresh);
    await Promise.all(old.map((s) => s.close()));
    this.log.info({ models: fresh.map((s) => `${s.manifest.id}@${s.manifest.version}`) }, 'models reloaded');
  }

  /** The models' part of lumen.status. */
  statusFields(): Pick<StatusHeader, 'providers' | 'models'> & { providerAttempts: Record<string, ProviderAttemptStatus[]>; modelReload?: ReloadResult } {
    const s = this.current;
    return {
      providers: Object.fromEntries(s.map((m) => [m.manifest.task === 'classify' ? 'classifier' : 'segmenter', m.provider])),
      providerAttempts: Object.fromEntries(s.map((m) => [m.manifest.id, m.attempts.map((a) => ({ provider: a.provider, ok: a.ok, reason: a.reason }))])),
      models: s.map((m) => ({ id: m.manifest.id, version: m.manifest.version, task: m.manifest.task, clinical: m.manifest.clinical })),
      ...(this.lastReload ? { modelReload: this.lastReload } : {}),
    };
  }

  /** Closes every session, in use or waiting to be swapped in. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.current, ...(this.pending ?? [])];
    this.pending = null;
    await Promise.all(all.map((s) => s.close()));
  }
}
