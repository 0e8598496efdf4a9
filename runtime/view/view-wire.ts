/**
 * What `lumen view` sends to the page over its WebSocket (server → page only; the page sends
 * nothing). The page's side of this contract is runtime/view/public/connection.js.
 *
 * Text messages are JSON, one of `ViewMessage`. Images travel as one binary message each, so an
 * image and its header are never separated and a busy page can be skipped whole:
 *
 *   byte 0      kind: 1 = overlay (geometry in the header, no image), 2 = preview (JPEG of the ROI)
 *   bytes 1–4   N, the header's length in bytes (uint32, big-endian)
 *   bytes 5…    the daemon's header as UTF-8 JSON (N bytes), unchanged
 *   the rest    the image, unchanged
 */
import type { HistoryFailure } from '../client/client.js';
import type { AlertHeader, FrameHeader, OverlayHeader, StatusHeader, TOPICS, TopicHeaders, TopicKey } from '../publish/protocol.js';

/** Version of this page protocol (independent of the daemon's wire protocol). */
export const VIEW_WIRE_VERSION = 1;

export const IMAGE_KIND = { overlay: 1, preview: 2 } as const;

export interface AlertEntry {
  header: AlertHeader;
  /** Fetched from the daemon's history rather than received live. */
  recovered: boolean;
}

/** The subscription to the daemon as the viewer sees it. */
export interface DaemonLink {
  endpoint: string;
  /** ms since the last message of any topic from the daemon; null before the first. */
  lastMessageAgeMs: number | null;
  /** Why the last subscription attempt failed, if it did (e.g. history endpoint unreachable). */
  error: string | null;
}

/**
 * Topics the viewer handles itself (a view message or image kind of their own; lumen.clip is not
 * fed to pages). Any other topic pages are fed reaches them as a `topic` message.
 */
type OwnMessageTopic = 'status' | 'alert' | 'overlay' | 'frame' | 'clip';
type ForwardedTopic = Exclude<TopicKey, OwnMessageTopic>;
/** A message of such a topic, as the client delivers it. */
export interface ForwardedMessage {
  topic: (typeof TOPICS)[ForwardedTopic];
  header: TopicHeaders[ForwardedTopic];
}

export type ViewMessage =
  /** First message on every connection: what a page needs to draw the side panel at once. */
  | {
      type: 'hello';
      v: number;
      alerts: AlertEntry[];
      status: StatusHeader | null;
      daemon: DaemonLink;
      history: HistoryFailure | null;
      /** The viewer serves clips (`/clips/<id>`): pages link each alert's clip. */
      clips: boolean;
    }
  /** The daemon's alert history could not be read (alerts before now may be missing), or again can (null). */
  | { type: 'history'; failure: HistoryFailure | null }
  | { type: 'status'; header: StatusHeader }
  | ({ type: 'alert' } & AlertEntry)
  /** Every second, daemon or not: lets the page tell "viewer gone" from "daemon gone". */
  | { type: 'heartbeat'; at: number; daemon: DaemonLink }
  /** A message of another topic pages are fed from (TOPIC_TABLE `view`), its header as the daemon sent it. */
  | ({ type: 'topic' } & ForwardedMessage);

/** One binary message: kind, header length, header JSON, image bytes. */
export function encodeImage(kind: number, header: OverlayHeader | FrameHeader, image: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.allocUnsafe(5);
  head.writeUInt8(kind, 0);
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json, image]);
}
