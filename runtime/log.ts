import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** Where log lines go: JSON lines (journald, files, pipes) or readable lines for a person. */
export type LogFormat = 'json' | 'pretty';

/** LUMEN_LOG_FORMAT=json|pretty wins; otherwise readable lines on a terminal and JSON everywhere else. */
export function logFormat(env = process.env, isTTY = process.stderr.isTTY === true): LogFormat {
  if (env.LUMEN_LOG_FORMAT === 'json' || env.LUMEN_LOG_FORMAT === 'pretty') return env.LUMEN_LOG_FORMAT;
  return isTTY ? 'pretty' : 'json';
}

/**
 * Logs on stderr, so stdout stays free for the commands that print results: pino JSON lines
 * (journald keeps them as they are) or, on a terminal, the same records through pino-pretty.
 * LUMEN_LOG_LEVEL overrides the level (default info).
 */
export function createLogger(name: string, level = process.env.LUMEN_LOG_LEVEL ?? 'info'): Logger {
  const dest =
    logFormat() === 'pretty'
      ? pretty({ destination: 2, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
      : pino.destination({ fd: 2, sync: true });
  return pino({ name, level, base: { pid: process.pid } }, dest);
}

export type { Logger };
