import type { Logger } from '../log.js';
import type { Config } from '../config/schema.js';
import type { AlertSpan, FrameRecord } from '../qa/metrics.js';
import { replay } from '../qa/replay.js';

export interface SelftestResult {
  ok: boolean;
  /** One OK/FAIL line per check, for people. */
  lines: string[];
}

/** How late after a lesion's first frame the alert may come and still pass, frames. */
const MAX_DELAY = 15;

/**
 * Runs the installed models and the daemon's own stages over every frame of a feed with known
 * lesions (the built-in demo by default) — a QA replay — and checks that each lesion raises an
 * alert, in time, that blood filling the view raises none, and that nothing else does.
 */
export async function selftest(config: Readonly<Config>, feed: string, log: Logger): Promise<SelftestResult> {
  const r = await replay({ feed, config, worstFrames: { lesion: 0, normal: 0 } }, log);
  const frames = r.frames.length;
  const lines: string[] = [];
  let ok = frames === r.source.frameCount;
  lines.push(`${ok ? 'OK  ' : 'FAIL'} ${frames} of ${r.source.frameCount} frames processed`);
  for (const e of r.episodes) {
    const late = e.alertFrame === null || e.alertFrame - e.start > MAX_DELAY;
    if (late) ok = false;
    lines.push(
      late
        ? `FAIL lesion at frames ${e.start}–${e.end}: no alert within ${MAX_DELAY} frames`
        : `OK   lesion at frames ${e.start}–${e.end}: alert at frame ${e.alertFrame} (+${e.alertFrame! - e.start})`,
    );
  }
  const blood = bleedingRuns(r.frames);
  for (const [first, last] of blood) {
    const bad = bloodAlert(r.frames, r.alerts, first, last);
    if (bad) ok = false;
    lines.push(bad ? `FAIL bleeding at frames ${first}–${last}: ${bad}` : `OK   bleeding at frames ${first}–${last}: no alert`);
  }
  if (blood.length === 0) lines.push('SKIP no bleeding in this feed (lumen feed make --demo renders one)');
  const stray = r.alerts.filter((a) => a.falseAlert).map((a) => a.raiseFrame);
  if (stray.length) ok = false;
  lines.push(stray.length ? `FAIL alerts without a lesion at frames ${stray.join(', ')}` : 'OK   no alert without a lesion');
  return { ok, lines };
}

/** Runs of frames the truth calls ungradable for bleeding, with no lesion in view: [first, last]. */
function bleedingRuns(frames: readonly FrameRecord[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const f of frames) {
    if (f.ungradableReason !== 'bleeding' || f.lesion) continue;
    const last = runs.at(-1);
    if (last && last[1] === f.index - 1) last[1] = f.index;
    else runs.push([f.index, f.index]);
  }
  return runs;
}

/**
 * Why an alert is on over frames first…last, or null. The rising blood before the truth's line is
 * classified; an alert it raised is still on when the view fills (gated frames hold it).
 */
function bloodAlert(frames: readonly FrameRecord[], alerts: readonly AlertSpan[], first: number, last: number): string | null {
  const on = frames.find((f) => f.index >= first && f.index <= last && f.alert);
  if (!on) return null;
  const raise = [...alerts].reverse().find((a) => a.raiseFrame <= on.index);
  return `alert on at frame ${on.index}${raise ? ` (raised at frame ${raise.raiseFrame})` : ''}`;
}
