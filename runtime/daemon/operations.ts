import type { Logger } from '../log.js';
import { messageOf } from '../errors.js';
import type { OperationsStatusFields } from '../publish/protocol.js';
import { DegradePolicy, type DegradeConfig } from '../health/degrade-policy.js';
import { HealthSampler, type HealthReading } from '../health/health-sampler.js';
import { SdNotifier, Watchdog, watchdogIntervalMs } from '../health/sd-notify.js';

export interface OperationsSettings {
  sampleIntervalMs: number;
  /** Where sysfs is mounted (thermal zones); default /sys. */
  sysRoot?: string;
  diskPaths: string[];
  degrade: DegradeConfig & { enabled: boolean };
}

/** What the degrade level asks of the frame loop. */
export interface WorkShare {
  level: number;
  name: string;
  segmenterEvery: number;
  classifierEvery: number;
}

/**
 * The daemon's operational side: health sampling, the degrade policy, and systemd (READY,
 * STATUS, STOPPING and WATCHDOG pings that stop when frames stop).
 */
export class Operations {
  private reading: HealthReading | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly watchdog: Watchdog | null;
  private closed = false;
  private readonly notifyWarned = new Set<string>();

  private constructor(
    private readonly log: Logger,
    private readonly sampler: HealthSampler,
    private readonly policy: DegradePolicy | null,
    private readonly notifier: SdNotifier | null,
    private readonly latencyP99: () => number | null,
    private readonly onShare: (share: WorkShare) => void,
  ) {
    const interval = watchdogIntervalMs();
    this.watchdog =
      notifier && interval
        ? new Watchdog(notifier, {
            intervalMs: interval,
            onTick: (t) => {
              if (t.error) log.warn({ err: t.error.message }, 'watchdog ping failed');
              else if (!t.pinged) log.warn('no frame since the last watchdog tick: ping withheld');
            },
          })
        : null;
  }

  static async start(
    notifier: SdNotifier | null,
    settings: OperationsSettings,
    log: Logger,
    latencyP99: () => number | null,
    onShare: (share: WorkShare) => void,
  ): Promise<Operations> {
    const sampler = await HealthSampler.create({ diskPaths: settings.diskPaths, sysRoot: settings.sysRoot });
    const { enabled, ...limits } = settings.degrade;
    const policy = enabled ? new DegradePolicy(limits) : null;
    const ops = new Operations(log, sampler, policy, notifier, latencyP99, onShare);
    ops.timer = setInterval(() => void ops.sample(), settings.sampleIntervalMs);
    await ops.sample();
    return ops;
  }

  private async sample(): Promise<void> {
    try {
      this.reading = await this.sampler.sample();
    } catch (err) {
      if (!this.closed) this.log.warn({ err: messageOf(err) }, 'health sample failed');
      return;
    }
    if (!this.policy) return;
    const e = this.policy.update({ tempC: this.reading.hottestC, latencyMsP99: this.latencyP99() });
    if (e) {
      this.log.warn({ from: e.from, to: e.to, cause: e.cause, reason: e.reason }, `degrade level ${e.to}: ${e.toName}`);
      this.onShare(this.share);
      void this.notifier?.status(`degrade level ${e.to}: ${e.toName}`).catch((err) => this.notifyFailed('STATUS', err));
    }
  }

  get share(): WorkShare {
    const c = this.policy?.current;
    return { level: c?.level ?? 0, name: c?.name ?? 'normal', segmenterEvery: c?.segmenterEvery ?? 1, classifierEvery: c?.classifierEvery ?? 1 };
  }

  /** A frame made it through inference (not one shed by the degrade policy): keeps the watchdog fed. */
  frameDone(): void {
    this.watchdog?.progress();
  }

  /** Capture and models are live. */
  async ready(text: string): Promise<void> {
    await this.notifier?.ready(text).catch((err) => this.log.warn({ err: messageOf(err) }, 'sd_notify READY failed'));
    this.watchdog?.start();
  }

  /** Fields for lumen.status. */
  statusFields(): OperationsStatusFields {
    const r = this.reading;
    const health = r
      ? {
          cpuLoadPct: Math.round(r.cpuLoadPct),
          memUsedMB: r.memUsedMB,
          memTotalMB: r.memTotalMB,
          cpuTempC: r.cpuTempC,
          gpuTempC: r.gpuTempC,
          gpuLoadPct: r.gpuLoadPct,
          hottestC: r.hottestC,
          diskFreeMB: Object.fromEntries(r.disks.map((d) => [d.path, d.freeMB])),
        }
      : null;
    return { health, degrade: this.share };
  }

  async stopping(): Promise<void> {
    await this.notifier?.stopping().catch((err) => this.notifyFailed('STOPPING', err));
  }

  /** A failed sd_notify message is logged once per kind: systemd just misses a status line. */
  private notifyFailed(kind: string, err: unknown): void {
    if (this.notifyWarned.has(kind)) return;
    this.notifyWarned.add(kind);
    this.log.warn({ err: messageOf(err) }, `sd_notify ${kind} failed`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.watchdog?.close();
    this.sampler.close();
    this.notifier?.close();
  }
}
