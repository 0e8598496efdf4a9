import type { Config } from '../config/schema.js';
import type { ModelSession } from '../inference/model-session.js';
import type { Logger } from '../log.js';
import { FramePipeline } from '../pipeline/pipeline.js';
import { openSessions } from '../pipeline/sessions.js';

/** The live path's per-frame stages, opened from a daemon config for a replay. */
export interface ReplayStages {
  pipeline: FramePipeline;
  sessions: { classifier: ModelSession; segmenter: ModelSession };
  close(): Promise<void>;
}

/**
 * Opens the classifier and segmenter sessions with the daemon's own session options and builds
 * the daemon's FramePipeline (conditioning, models, decision) from the same config — segmenter on
 * every suspicious frame: a replay measures the full pipeline, not a degraded one.
 */
export async function openStages(config: Readonly<Config>, log: Logger): Promise<ReplayStages> {
  const [classifier, segmenter] = await openSessions(config, log);
  return {
    pipeline: new FramePipeline(config, [classifier, segmenter]),
    sessions: { classifier, segmenter },
    close: async () => {
      await Promise.all([classifier.close(), segmenter.close()]);
    },
  };
}
