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
}

/** The reserved placeholder where capture puts the appsink's properties (mailbox or every-frame). */
export const SINK_PLACEHOLDER = 'sink';

const PARAM_LINE = /^#\s*param\s+(\S+)\s+(\S+)\s+(.*)$/;
// Values may not break out of their slot in the launch line.
const SAFE_VALUE = /^[^!"'\\\n]+$/;

export async function listTemplates(dir: string): Promise<string[]> {
  const files = await readdir(dir);
  return files.filter((f) => f.endsWith('.pipeline')).map((f) => f.slice(0, -'.pipeline'.length)).sort();
}

export async function loadTemplate(dir: string, name: string): Promise<PipelineTemplate> {
  if (!/^[a-z0-9-]+$/.test(name)) {
    throw new LumenError('PIPELINE_TEMPLATE', `pipeline template name "${name}" is not valid`, { name });
  }
  let text: string;
  try {
    text = await readFile(join(dir, `${name}.pipeline`), 'utf8');
  } catch {
    const known = await listTemplates(dir).catch(() => []);
    throw new LumenError('PIPELINE_TEMPLATE', `no pipeline template "${name}" (known: ${known.join(', ')})`, { name });
  }
  return parseTemplate(name, text);
}

export function parseTemplate(name: string, text: string): PipelineTemplate {
  const params: TemplateParam[] = [];
  const description: string[] = [];
  const body: string[] = [];
  for (const line of text.split('\n')) {
    const m = PARAM_LINE.exec(line);
    if (m) params.push({ name: m[1], default: m[2] === '-' ? undefined : m[2], description: m[3].trim() });
    else if (line.startsWith('#')) description.push(line.replace(/^#\s?/, ''));
    else if (line.trim()) body.push(line.trim());
  }
  return { name, description: description.join(' '), params, body: body.join(' ') };
}

/**
 * Fills a template's parameters; every missing or unsafe value is named in one error.
 * `sinkProps` fills the reserved {sink} slot.
 */
export function renderTemplate(t: PipelineTemplate, values: Record<string, string>, sinkProps: string): string {
  const declared = new Set(t.params.map((p) => p.name));
  const unknown = Object.keys(values).filter((k) => !declared.has(k));
  if (unknown.length) {
    throw new LumenError('PIPELINE_PARAM', `pipeline "${t.name}" has no parameter ${unknown.join(', ')}`, { unknown });
  }
  const resolved: Record<string, string> = { [SINK_PLACEHOLDER]: sinkProps };
  const missing: string[] = [];
  for (const p of t.params) {
    const v = values[p.name] ?? p.default;
    if (v === undefined || v === '') {
      missing.push(p.name);
      continue;
    }
    if (!SAFE_VALUE.test(v)) {
      throw new LumenError('PIPELINE_PARAM', `pipeline "${t.name}" parameter ${p.name} has a character GStreamer would misread: ${JSON.stringify(v)}`, { param: p.name });
    }
    resolved[p.name] = /\s/.test(v) ? `"${v}"` : v;
  }
  if (missing.length) {
    throw new LumenError('PIPELINE_PARAM', `pipeline "${t.name}" needs parameter ${missing.join(', ')} (${missing.map((m) => t.params.find((p) => p.name === m)?.description).join('; ')})`, { missing });
  }
  return t.body.replace(/\{([a-z0-9_-]+)\}/gi, (_, k: string) => resolved[k] ?? `{${k}}`);
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
