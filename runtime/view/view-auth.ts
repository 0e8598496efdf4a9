/**
 * The viewer's credential on a network: one bearer token. A browser presents it once in the
 * link (`/?token=…`), gets it back as an HttpOnly, SameSite=Strict cookie and is redirected to a
 * clean URL, so the page and its WebSocket need no change; other clients send
 * `Authorization: Bearer …`. On loopback the viewer stays open unless a token is given.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LumenError } from '../errors.js';

/** Shortest token accepted: 32 characters of base64url is 192 bits. */
export const TOKEN_MIN_LENGTH = 32;
const TOKEN_CHARS = /^[A-Za-z0-9_-]+$/;
export const COOKIE_NAME = 'lumen_view';
/** The cookie lives as long as a bedside monitor's browser session should: 30 days. */
const COOKIE_MAX_AGE_S = 30 * 24 * 3600;

/** Throws VIEW_TOKEN unless the token is long enough and URL- and cookie-safe. */
export function checkToken(token: string, source: string): void {
  if (token.length < TOKEN_MIN_LENGTH)
    throw new LumenError('VIEW_TOKEN', `${source}: the token has ${token.length} characters; at least ${TOKEN_MIN_LENGTH} are required`);
  if (!TOKEN_CHARS.test(token)) throw new LumenError('VIEW_TOKEN', `${source}: the token may hold only A-Z a-z 0-9 - _`);
}

/** 256 random bits, base64url (43 characters). */
export function makeToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Only a loopback address keeps the viewer on this machine; anything else needs the token. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class ViewAuth {
  private readonly want: Buffer;

  constructor(token: string) {
    checkToken(token, 'viewer token');
    this.want = digest(token);
  }

  /** Compared as hashes in constant time: the answer's timing tells nothing about the token. */
  matches(candidate: string | undefined): boolean {
    return candidate !== undefined && timingSafeEqual(digest(candidate), this.want);
  }

  /** True when the request carries the token (bearer header or cookie). */
  allows(req: IncomingMessage): boolean {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && this.matches(auth.slice(7).trim())) return true;
    return this.matches(cookieValue(req.headers.cookie, COOKIE_NAME));
  }

  /** The cookie that stands for the token after the link was opened once. */
  cookie(token: string): string {
    return `${COOKIE_NAME}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${COOKIE_MAX_AGE_S}`;
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
