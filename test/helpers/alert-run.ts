import type { LumenClient, LumenMessage } from '../../runtime/client/client.js';
import { TOPICS, type AlertHeader } from '../../runtime/publish/protocol.js';

/** Collects alerts from a client in the background until stopped. */
export function collectAlerts(client: LumenClient): {
  alerts: AlertHeader[];
  recovered: number;
  /** Seqs of the alerts that came from history rather than live. */
  recoveredSeqs: number[];
  done: Promise<void>;
  waitCount: (n: number, ms: number, what?: string) => Promise<void>;
} {
  const alerts: AlertHeader[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const recoveredSeqs: number[] = [];
  let recovered = 0;
  const done = (async () => {
    for await (const m of client as AsyncIterable<LumenMessage>) {
      if (m.topic !== TOPICS.alert) continue;
      alerts.push(m.header);
      if (m.recovered) {
        recovered++;
        recoveredSeqs.push(m.header.seq);
      }
      for (const w of waiters.filter((w) => alerts.length >= w.n)) w.resolve();
    }
  })().catch(() => {});
  const waitCount = (n: number, ms: number, what = `${n} alerts`) =>
    new Promise<void>((resolve, reject) => {
      if (alerts.length >= n) return resolve();
      const timer = setTimeout(
        () =>
          reject(
            new Error(`timed out after ${ms} ms waiting for ${what} (have ${alerts.length} alerts: ${alerts.map((a) => `${a.seq}:${a.type}`).join(' ')})`),
          ),
        ms,
      );
      waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
    });
  return {
    alerts,
    get recovered() {
      return recovered;
    },
    recoveredSeqs,
    done,
    waitCount,
  };
}
