import type { AlertHeader } from '../publish/protocol.js';

/** What a restarted daemon does about the episodes of the run before it. */
export interface EpisodeResume {
  /** Episode number of the newest journalled alert (0: none); the next raise gets this + 1. */
  lastEpisode: number;
  /** The clear to journal and publish first, when that run ended mid-episode (a crash). */
  clear: Omit<AlertHeader, 'v' | 'seq' | 'bootId'> | null;
}

/**
 * Reads the newest journalled alert. A raise without its clear means the previous run ended
 * while the alert was on: it is cleared with reason `restart` (the new run has not seen the
 * lesion, so it does not carry the alert on), repeating the raise's scores and box, with
 * frameId -1 (no frame of this run) and `ts` the restart time.
 */
export function resumeEpisodes(last: AlertHeader | undefined, now: number): EpisodeResume {
  if (!last) return { lastEpisode: 0, clear: null };
  const lastEpisode = Number.isInteger(last.episode) && last.episode > 0 ? last.episode : 0;
  if (last.type !== 'raise') return { lastEpisode, clear: null };
  return {
    lastEpisode,
    clear: {
      type: 'clear',
      reason: 'restart',
      episode: last.episode,
      onsetFrame: last.onsetFrame,
      score: last.score,
      peakScore: last.peakScore,
      box: last.box,
      areaPx: last.areaPx,
      // The clip the raise named: its record says it was cut short (incomplete).
      ...(last.clip ? { clip: last.clip } : {}),
      frameId: -1,
      ts: now,
    },
  };
}
