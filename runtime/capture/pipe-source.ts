import { closeSync, constants, openSync, statSync } from 'node:fs';
import type { PipelineTemplate } from './template.js';

/**
 * A template's `filesrc location={param}` whose path is a named pipe (a stream fed by another
 * process) becomes `fdsrc fd=N` on a descriptor opened here without blocking. filesrc opens and
 * reads a pipe with blocking calls on the thread that changes the pipeline's state — the event
 * loop's — so a pipe with no writer, or a silent one being stopped, froze status and history;
 * fdsrc waits in a poll that GStreamer can interrupt.
 */
export interface PipeSource {
  readonly template: PipelineTemplate;
  /** The descriptor handed to fdsrc, closed by `close()` once the pipeline has stopped. */
  close(): void;
}

const FILESRC = /filesrc\s+location=\{([a-z0-9_-]+)\}/i;

/** The template with a named pipe opened for fdsrc, or null when its source is not a pipe. */
export function openPipeSource(template: PipelineTemplate, params: Record<string, string>): PipeSource | null {
  const m = FILESRC.exec(template.body);
  if (!m) return null;
  const path = params[m[1]] ?? template.params.find((p) => p.name === m[1])?.default;
  if (!path || !isPipe(path)) return null;
  // Non-blocking open: it succeeds with no writer yet; poll() then waits for one to write.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let open = true;
  return {
    template: { ...template, body: template.body.replace(FILESRC, `fdsrc fd=${fd}`) },
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

function isPipe(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false; // absent: filesrc says so with its own error
  }
}
