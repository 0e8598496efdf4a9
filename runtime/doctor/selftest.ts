import type { Logger } from '../log.js';
import type { Config } from '../config/schema.js';
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
 * alert, in time, and that nothing else does.
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
    lines.push(late ? `FAIL lesion at frames ${e.start}–${e.end}: no alert within ${MAX_DELAY} frames` : `OK   lesion at frames ${e.start}–${e.end}: alert at frame ${e.alertFrame} (+${e.alertFrame! - e.start})`);
  }
  const stray = r.alerts.filter((a) => a.falseAlert).map((a) => a.raiseFrame);
  if (stray.length) ok = false;
  lines.push(stray.length ? `FAIL alerts without a lesion at frames ${stray.join(', ')}` : 'OK   no alert without a lesion');
  return { ok, lines };
}
