import { pino, type Logger } from 'pino';

/**
 * Structured JSON lines on stderr (journald keeps them as they are); stdout stays free for
 * the commands that print results. LUMEN_LOG_LEVEL overrides the level (default info).
 */
export function createLogger(name: string, level = process.env.LUMEN_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
