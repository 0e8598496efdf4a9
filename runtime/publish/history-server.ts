// The history endpoint's side of the publisher: answers alert-history and recording requests.
import type { Router } from './zmq.js';
import { LumenError, messageOf, type ErrorCode } from '../errors.js';
import type { AlertJournal } from './journal.js';
import { HISTORY_MAX_LIMIT, PROTOCOL_VERSION, type ClipInfo, type HistoryReply } from './protocol.js';

/** Where the `clip` history op finds recordings (runtime/record/recorder.ts); throws a LumenError naming why not. */
export interface ClipDirectory {
  describe(id: string): ClipInfo;
}

/** Answers `since` from the alert journal and `clip` from the recordings, counting what it did. */
export class HistoryServer {
  /** Requests answered (refusals included). */
  served = 0;
  /** Requests answered with an error. */
  refused = 0;
  /** Messages without the REQ envelope, dropped unanswered. */
  ignored = 0;
  /** Recordings, for the `clip` op; unset: every id is unknown. */
  clips: ClipDirectory | null = null;

  constructor(private readonly journal: AlertJournal) {}

  /**
   * Answers history requests until the socket closes or fails. A message without the REQ
   * envelope (bytes from something that is not a Lumen client) is dropped unanswered.
   */
  async serve(router: Router): Promise<void> {
    for await (const [peer, ...rest] of router) {
      const delimiter = rest.findIndex((f) => f.length === 0);
      if (delimiter < 0) {
        this.ignored++;
        continue;
      }
      const reply = this.answer(rest.slice(delimiter + 1));
      this.served++;
      if (!reply.ok) this.refused++;
      await router.send([peer, ...rest.slice(0, delimiter + 1), JSON.stringify(reply)]);
    }
  }

  /** Any malformed request gets an error reply naming what is wrong; nothing throws. */
  answer(msg: Buffer[]): HistoryReply {
    const fail = (message: string, code: ErrorCode = 'PROTOCOL'): HistoryReply => ({ v: PROTOCOL_VERSION, ok: false, error: { code, message } });
    if (msg.length !== 1) return fail(`expected one frame, got ${msg.length}`);
    let req: Record<string, unknown>;
    try {
      req = JSON.parse(msg[0].toString('utf8')) as Record<string, unknown>;
    } catch {
      return fail('request is not JSON');
    }
    if (!req || typeof req !== 'object' || Array.isArray(req)) return fail('request must be a JSON object');
    if (req.v !== PROTOCOL_VERSION) return fail(`field v: expected ${PROTOCOL_VERSION}`);
    if (req.op === 'clip') {
      if (typeof req.id !== 'string' || req.id.length === 0 || req.id.length > 100)
        return fail('field id: expected a recording id (a string, e.g. clip-20250101T101502Z-e12)');
      try {
        if (!this.clips) throw new LumenError('CLIP_UNKNOWN', `no recording ${req.id}: this daemon keeps none`);
        return { v: PROTOCOL_VERSION, ok: true, clip: this.clips.describe(req.id) };
      } catch (err) {
        return fail(messageOf(err), err instanceof LumenError ? err.code : 'CLIP_UNKNOWN');
      }
    }
    if (req.op !== 'since') return fail('field op: expected "since" or "clip"');
    if (!Number.isInteger(req.after) || (req.after as number) < 0) return fail('field after: expected a non-negative integer');
    const limit = req.limit ?? HISTORY_MAX_LIMIT;
    if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > HISTORY_MAX_LIMIT) return fail(`field limit: expected 1…${HISTORY_MAX_LIMIT}`);
    const { events, more } = this.journal.since(req.after as number, limit as number);
    return { v: PROTOCOL_VERSION, ok: true, events, more, lastSeq: this.journal.seq };
  }
}
