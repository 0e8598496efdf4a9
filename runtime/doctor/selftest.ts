import type { Logger } from '../log.js';
import { Capture } from '../capture/capture.js';
import type { Config } from '../config/schema.js';
import { PIPELINES_DIR } from '../config/paths.js';
import { makeProcessor, sessionOptions } from '../daemon/daemon.js';
import { DecisionStage } from '../decision/decision.js';
import { annotationsPathFor, loadAnnotations } from '../feed/annotations.js';
import { ModelSession } from '../inference/model-session.js';

export interface SelftestResult {
  ok: boolean;
  frames: number;
  /** Lesion episodes of the feed, [first, last] frame. */
  episodes: [number, number][];
  raises: number[];
  lines: string[];
}

/** How late after a lesion's first frame the alert may come and still pass, frames. */
const MAX_DELAY = 15;

/**
 * Runs the installed models and the daemon's own stages over every frame of a feed with known
 * lesions (the built-in demo by default) and checks that each lesion raises an alert, in time,
 * and that nothing else does.
 */
export async function selftest(config: Readonly<Config>, feed: string, log: Logger): Promise<SelftestResult> {
  const ann = await loadAnnotations(annotationsPathFor(feed));
  const episodes: [number, number][] = [];
  for (const f of [...ann.frames].sort((a, b) => a.index - b.index)) {
    if (f.label !== 'egc') continue;
    const last = episodes.at(-1);
    if (last && last[1] === f.index - 1) last[1] = f.index;
    else episodes.push([f.index, f.index]);
  }
  const opts = await sessionOptions(config);
  const sessions = [await ModelSession.open(config.inference.classifier, opts, log)];
  sessions.push(await ModelSession.open(config.inference.segmenter, opts, log).catch(async (e) => {
    await sessions[0].close();
    throw e;
  }));
  const raises: number[] = [];
  let frames = 0;
  try {
    const processor = makeProcessor(config, sessions);
    const decision = new DecisionStage(config.decision);
    const cap = await Capture.open({ pipelinesDir: PIPELINES_DIR, template: 'file-replay', params: { location: feed }, mode: 'every-frame', loop: false, readyTimeoutMs: 20000 }, log);
    try {
      for await (const frame of cap) {
        const p = await processor.process(frame);
        const d = decision.update({ frameId: frame.id, ts: frame.ts, score: p.score });
        if (d.event?.type === 'raise') raises.push(frame.id);
        frames++;
      }
    } finally {
      cap.close();
    }
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
  const lines: string[] = [];
  let ok = frames === ann.frameCount;
  lines.push(`${ok ? 'OK  ' : 'FAIL'} ${frames} of ${ann.frameCount} frames processed`);
  for (const [a, b] of episodes) {
    const r = raises.find((f) => f >= a && f <= a + MAX_DELAY);
    if (r === undefined) ok = false;
    lines.push(r === undefined ? `FAIL lesion at frames ${a}–${b}: no alert within ${MAX_DELAY} frames` : `OK   lesion at frames ${a}–${b}: alert at frame ${r} (+${r - a})`);
  }
  const clearFrames = config.decision.clearFrames;
  const stray = raises.filter((r) => !episodes.some(([a, b]) => r >= a && r <= b + clearFrames));
  if (stray.length) ok = false;
  lines.push(stray.length ? `FAIL alerts without a lesion at frames ${stray.join(', ')}` : 'OK   no alert without a lesion');
  return { ok, frames, episodes, raises, lines };
}
