// health/: the health stage: load, temperatures and memory; the degrade policy that sheds work under heat
// or overload; the systemd watchdog.
/**
 * When the box runs hot or the frame path falls behind, shed work in a fixed order and win it back
 * one step at a time. A pure state machine: feed it health readings, act on the events it returns.
 */

/**
 * One rung of the shedding ladder. Rates are "every Nth": the classifier runs on every Nth frame
 * taken, the segmenter on every Nth suspicious frame (pipeline/degrade-share.ts applies them).
 */
export interface DegradeLevel {
  /** 0 = normal; higher sheds more. */
  level: number;
  /** What this level gives up, for logs and the status topic. */
  name: string;
  /** The segmenter runs on every Nth suspicious frame (only frames the classifier ran on can be suspicious). */
  segmenterEvery: number;
  /** The classifier runs on every Nth frame. */
  classifierEvery: number;
}

/**
 * The order work is shed in. The segmenter goes first: it is the heavier model and only refines
 * the location of something the classifier already flagged. The classifier, which raises the
 * alert, is slowed only after that. Each level keeps every cut of the levels below it, and the
 * segmenter's period stays a multiple of the classifier's, since it only runs on classified frames.
 */
export const DEGRADE_LEVELS: readonly DegradeLevel[] = Object.freeze(
  [
    { level: 0, name: 'normal', segmenterEvery: 1, classifierEvery: 1 },
    { level: 1, name: 'segmenter every other frame', segmenterEvery: 2, classifierEvery: 1 },
    { level: 2, name: 'classifier at half rate', segmenterEvery: 4, classifierEvery: 2 },
    { level: 3, name: 'classifier at quarter rate', segmenterEvery: 8, classifierEvery: 4 },
  ].map((l) => Object.freeze(l)),
);

/** Limits and hysteresis. Temperatures °C, latencies ms. */
export interface DegradeConfig {
  /** Escalate when the temperature is above this (e.g. 85; Orin throttles near 99 at tj). */
  tempHighC: number;
  /** Recovery needs the temperature below this; must be < tempHighC (e.g. 78). */
  tempClearC: number;
  /** Escalate when the p99 frame age (capture → overlay published) is above this (e.g. 120). */
  latencyHighMs: number;
  /** Recovery needs the p99 frame age below this; must be < latencyHighMs (e.g. 80). */
  latencyClearMs: number;
  /** Consecutive readings over a limit before each escalation (e.g. 3). */
  holdSamples: number;
  /** Consecutive clear readings before each recovery step; default holdSamples. */
  recoverSamples?: number;
  /** Highest level to use, 0–3; default 3. */
  maxLevel?: number;
}

/** One health reading as the policy sees it; null means "not measured" (never counts as over). */
export interface DegradeReading {
  /** Hottest trustworthy sensor, °C (HealthReading.hottestC). */
  tempC: number | null;
  /** p99 frame age (capture → overlay published) over the last frames published, ms; null before the first. */
  latencyMsP99: number | null;
}

/** A level change, for the daemon to log and publish on lumen.status. */
export interface DegradeEvent {
  from: number;
  to: number;
  /** Name of the new level (DEGRADE_LEVELS[to].name). */
  toName: string;
  /** What drove it: a limit exceeded, or both readings clear. */
  cause: 'temperature' | 'latency' | 'temperature+latency' | 'clear';
  /** One line for people, with the numbers. */
  reason: string;
}

const fmt = (n: number): string => String(Math.round(n * 10) / 10);

/**
 * The shedding state machine. Escalates one level after holdSamples consecutive readings over a
 * high limit; recovers one level after recoverSamples consecutive readings with both values under
 * their clear limits. A reading between the clear and high limits holds the level and restarts
 * both counts, so noise around either limit cannot flap the level.
 */
export class DegradePolicy {
  readonly config: Readonly<Required<DegradeConfig>>;
  #level = 0;
  #overStreak = 0;
  #clearStreak = 0;

  /**
   * `config` as the config schema validated it (health.degrade, once at start: clear limits below
   * high limits, integer counts, maxLevel 0–3); only the defaults are filled in here.
   */
  constructor(config: DegradeConfig) {
    this.config = Object.freeze({
      ...config,
      recoverSamples: config.recoverSamples ?? config.holdSamples,
      maxLevel: config.maxLevel ?? DEGRADE_LEVELS.length - 1,
    });
  }

  /** Current level, 0 = normal. */
  get level(): number {
    return this.#level;
  }

  /** The current rung of DEGRADE_LEVELS. */
  get current(): DegradeLevel {
    return DEGRADE_LEVELS[this.#level];
  }

  /** Feeds one reading; returns the level change it caused, or null. */
  update(reading: DegradeReading): DegradeEvent | null {
    const c = this.config;
    const { tempC, latencyMsP99 } = reading;
    const hot = tempC !== null && tempC > c.tempHighC;
    const slow = latencyMsP99 !== null && latencyMsP99 > c.latencyHighMs;
    const clear = (tempC === null || tempC < c.tempClearC) && (latencyMsP99 === null || latencyMsP99 < c.latencyClearMs);

    if (hot || slow) {
      this.#clearStreak = 0;
      this.#overStreak++;
      if (this.#overStreak < c.holdSamples || this.#level >= c.maxLevel) return null;
      this.#overStreak = 0;
      const parts: string[] = [];
      if (hot) parts.push(`temperature ${fmt(tempC)} °C > ${c.tempHighC} °C`);
      if (slow) parts.push(`latency p99 ${fmt(latencyMsP99)} ms > ${c.latencyHighMs} ms`);
      return this.#move(+1, hot && slow ? 'temperature+latency' : hot ? 'temperature' : 'latency', `${parts.join(' and ')} for ${c.holdSamples} readings`);
    }
    this.#overStreak = 0;
    if (!clear) {
      // Between the limits: hold the level, and make either change start counting afresh.
      this.#clearStreak = 0;
      return null;
    }
    this.#clearStreak++;
    if (this.#clearStreak < c.recoverSamples || this.#level === 0) return null;
    this.#clearStreak = 0;
    const parts: string[] = [];
    parts.push(tempC === null ? 'temperature unknown' : `temperature ${fmt(tempC)} °C < ${c.tempClearC} °C`);
    parts.push(latencyMsP99 === null ? 'latency unknown' : `latency p99 ${fmt(latencyMsP99)} ms < ${c.latencyClearMs} ms`);
    return this.#move(-1, 'clear', `${parts.join(' and ')} for ${c.recoverSamples} readings`);
  }

  #move(step: 1 | -1, cause: DegradeEvent['cause'], reason: string): DegradeEvent {
    const from = this.#level;
    this.#level += step;
    return { from, to: this.#level, toName: DEGRADE_LEVELS[this.#level].name, cause, reason };
  }
}
