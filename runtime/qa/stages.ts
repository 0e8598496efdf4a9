import type { Config } from '../config/schema.js';
import { makeProcessor, openSessions } from '../daemon/sessions.js';
import type { FrameProcessor } from '../daemon/frame-processor.js';
import { DecisionStage } from '../decision/decision.js';
import type { ModelSession } from '../inference/model-session.js';
import type { Logger } from '../log.js';

/** The live path's per-frame stages, opened from a daemon config for a replay. */
export interface ReplayStages {
  processor: FrameProcessor;
  decision: DecisionStage;
  sessions: { classifier: ModelSession; segmenter: ModelSession };
  close(): Promise<void>;
}

/**
 * Opens the classifier and segmenter sessions with the daemon's own session options and builds
 * the FrameProcessor (ROI, quality gate, classifier, segmenter) exactly as Daemon.start does —
 * segmenter on every suspicious frame: a replay measures the full pipeline, not a degraded one —
 * and a DecisionStage from the same config section.
 */
export async function openStages(config: Readonly<Config>, log: Logger): Promise<ReplayStages> {
  const [classifier, segmenter] = await openSessions(config, log);
  return {
    processor: makeProcessor(config, [classifier, segmenter]),
    decision: new DecisionStage(config.decision),
    sessions: { classifier, segmenter },
    close: async () => {
      await Promise.all([classifier.close(), segmenter.close()]);
    },
  };
}
