// client/: the messages the reference client delivers, from the wire and of its own.
import type { TOPIC_TABLE, TOPICS, TopicHeaders, TopicKey } from '../publish/protocol.js';
import type { ErrorCode } from '../errors.js';

/** Messages the client itself makes (not from the wire): how alert history is doing. */
export const CLIENT_EVENTS = {
  historyFailed: 'client.history-failed',
  historyRecovered: 'client.history-recovered',
} as const;

/** A history request failed: alerts after `after` are held back until one succeeds. */
export interface HistoryFailure {
  /** Seq of the last alert delivered (0: none yet); everything after it is not delivered yet. */
  after: number;
  /** Newest alert seq known to exist (from a live alert or status.alertSeq), null if unknown. */
  newest: number | null;
  /** Consecutive failed attempts, from 1. */
  attempt: number;
  /** The next attempt starts in this many ms. */
  retryInMs: number;
  /** HISTORY_UNAVAILABLE (no answer in time) or PROTOCOL (an error reply or a garbled one). */
  code: ErrorCode;
  message: string;
}

/** History answered again after failed attempts; the held-back alerts follow this message. */
export interface HistoryRecovery {
  /** Failed attempts before this success. */
  attempts: number;
  /** From the first failure to this success, ms. */
  downMs: number;
}

/** A payload as the topic table says: none, always a Buffer, or (overlay) the PNG when header.format is 'png', else null. */
type PayloadField<K extends TopicKey> = (typeof TOPIC_TABLE)[K]['payload'] extends 'always'
  ? { payload: Buffer }
  : (typeof TOPIC_TABLE)[K]['payload'] extends 'png'
    ? { payload: Buffer | null }
    : unknown;

/** A message of one topic, as the topic table describes it; an alert also says whether it was fetched from history. */
export type TopicMessage<K extends TopicKey> = { topic: (typeof TOPICS)[K]; header: TopicHeaders[K] } & PayloadField<K> &
  (K extends 'alert' ? { /** Fetched from history, not received live. */ recovered: boolean } : unknown);

/** Everything the client delivers: one message per topic received (see TOPIC_TABLE), and its own history notices. */
export type LumenMessage =
  | { [K in TopicKey]: TopicMessage<K> }[TopicKey]
  | { topic: typeof CLIENT_EVENTS.historyFailed; header: HistoryFailure }
  | { topic: typeof CLIENT_EVENTS.historyRecovered; header: HistoryRecovery };
