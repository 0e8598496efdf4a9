import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LumenError } from '../errors.js';
import { hasElement } from './gst.js';

/** A declared template parameter; `default` undefined means required. */
export interface TemplateParam {
  name: string;
  default?: string;
  description: string;
}

export interface PipelineTemplate {
  name: string;
  description: string;
  params: TemplateParam[];
  body: string;
  /**
   * `# source-size {width}x{height}`: a template that scales by itself (its {analysis} slot)
   * states the source's size here, since no frame of that size reaches the appsink.
   */
  sourceSize?: string;
}

/** The reserved placeholder where capture puts the appsink's properties (mailbox or every-frame). */
export const SINK_PLACEHOLDER = 'sink';

const PARAM_LINE = /^#\s*param\s+(\S+)\s+(\S+)\s+(.*)$/;
const SOURCE_SIZE_LINE = /^#\s*source-size\s+(\S+)\s*$/;
// Values may not break out of their slot in the launch line.
const SAFE_VALUE = /^[^!"'\\\n]+$/;

export async function listTemplates(dir: string): Promise<string[]> {
  const files = await readdir(dir);
  return files
    .filter((f) => f.endsWith('.pipeline'))
    .map((f) => f.slice(0, -'.pipeline'.length))
    .sort();
}

export async function loadTemplate(dir: string, name: string): Promise<PipelineTemplate> {
  if (!/^[a-z0-9-]+$/.test(name)) {
    throw new LumenError('PIPELINE_TEMPLATE', `pipeline template name "${name}" is not valid`, { name });
  }
  let text: string;
  try {
    text = await readFile(join(dir, `${name}.pipeline`), 'utf8');
  } catch {
    // Only for the message: an unreadable folder lists none, and the refusal still names the template.
    const known = await listTemplates(dir).catch(() => []);
    throw new LumenError('PIPELINE_TEMPLATE', `no pipeline template "${name}" (known: ${known.join(', ')})`, { name });
  }
  return parseTemplate(name, text);
}

export function parseTemplate(name: string, text: string): PipelineTemplate {
  const params: TemplateParam[] = [];
  const description: string[] = [];
  const body: string[] = [];
  let sourceSize: string | undefined;
  for (const line of text.split('\n')) {
    const m = PARAM_LINE.exec(line);
    const size = SOURCE_SIZE_LINE.exec(line);
    if (m) params.push({ name: m[1], default: m[2] === '-' ? undefined : m[2], description: m[3].trim() });
    else if (size) sourceSize = size[1];
    else if (line.startsWith('#')) description.push(line.replace(/^#\s?/, ''));
    else if (line.trim()) body.push(line.trim());
  }
  return { name, description: description.join(' '), params, body: body.join(' '), ...(sourceSize ? { sourceSize } : {}) };
}

/**
 * Fills a template's parameters; every missing or unsafe value is named in one error.
 * `sinkProps` fills the reserved {sink} slot, `slots` any other reserved one ({analysis}).
 */
export function renderTemplate(t: PipelineTemplate, values: Record<string, string>, sinkProps: string, slots: Record<string, string> = {}): string {
  const declared = new Set(t.params.map((p) => p.name));
  const unknown = Object.keys(values).filter((k) => !declared.has(k));
  if (unknown.length) {
    throw new LumenError('PIPELINE_PARAM', `pipeline "${t.name}" has no parameter ${unknown.join(', ')}`, { unknown });
  }
  const resolved: Record<string, string> = { ...slots, [SINK_PLACEHOLDER]: sinkProps };
  const missing: string[] = [];
  for (const p of t.params) {
    const v = values[p.name] ?? p.default;
    if (v === undefined || v === '') {
      missing.push(p.name);
      continue;
    }
    if (!SAFE_VALUE.test(v)) {
      throw new LumenError('PIPELINE_PARAM', `pipeline "${t.name}" parameter ${p.name} has a character GStreamer would misread: ${JSON.stringify(v)}`, {
        param: p.name,
      });
    }
    resolved[p.name] = /\s/.test(v) ? `"${v}"` : v;
  }
  if (missing.length) {
    throw new LumenError(
      'PIPELINE_PARAM',
      `pipeline "${t.name}" needs parameter ${missing.join(', ')} (${missing.map((m) => t.params.find((p) => p.name === m)?.description).join('; ')})`,
      { missing },
    );
  }
  return fill(t.body, resolved);
}

/** The template's source size with its parameters filled, if it states one. */
export function renderSourceSize(t: PipelineTemplate, values: Record<string, string>): { width: number; height: number } | null {
  if (!t.sourceSize) return null;
  const resolved = Object.fromEntries(t.params.map((p) => [p.name, values[p.name] ?? p.default ?? '']));
  const m = /^(\d+)x(\d+)$/.exec(fill(t.sourceSize, resolved));
  if (!m) throw new LumenError('PIPELINE_TEMPLATE', `pipeline "${t.name}": source-size must read WIDTHxHEIGHT, got "${fill(t.sourceSize, resolved)}"`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function fill(text: string, resolved: Record<string, string>): string {
  return text.replace(/\{([a-z0-9_-]+)\}/gi, (_, k: string) => resolved[k] ?? `{${k}}`);
}

/** Element factory names used in a launch line (caps and properties skipped). */
export function elementsOf(launch: string): string[] {
  return launch
    .split('!')
    .map((seg) => seg.trim().split(/\s+/)[0])
    .filter((tok) => tok && !tok.includes('/') && !tok.includes('=') && !tok.endsWith('.'));
}

/** Throws PIPELINE_ELEMENT naming every element this machine's GStreamer lacks. */
export function checkElements(launch: string, exists: (f: string) => boolean = hasElement): void {
  const missing = [...new Set(elementsOf(launch))].filter((e) => !exists(e));
  if (missing.length) {
    throw new LumenError('PIPELINE_ELEMENT', `GStreamer element ${missing.join(', ')} is not installed on this machine`, { missing });
  }
}
