import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { LumenError } from '../errors.js';
import { checkConfigPaths } from './check-paths.js';
import { ConfigSchema, type Config } from './schema.js';

/** One line per problem: the key's path and what is wrong with it. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((i) => {
    const at = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => `${at ? `${at}.` : ''}${k}: unknown key`);
    return [`${at || '(root)'}: ${i.message}`];
  });
}

/** Validates a config object (from a file or built in code); the result is frozen. */
export function parseConfig(raw: unknown, source = 'config'): Readonly<Config> {
  const parsed = ConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const lines = describeIssues(parsed.error.issues);
    throw new LumenError('CONFIG_INVALID', `${source}: ${lines.join('; ')}`, { source, problems: lines });
  }
  return deepFreeze(parsed.data);
}

/**
 * Reads a YAML or JSON config file; relative paths inside it are taken from the file's folder,
 * and each is checked for what it must be (checkConfigPaths).
 */
export async function loadConfig(path: string): Promise<Readonly<Config>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new LumenError('CONFIG_READ', `${path}: ${(err as Error).message}`, { source: path });
  }
  let raw: unknown;
  try {
    raw = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError ? ` at line ${err.linePos?.[0].line}` : '';
    throw new LumenError('CONFIG_PARSE', `${path}${where}: ${(err as Error).message.split('\n')[0]}`, { source: path });
  }
  const config = deepFreeze(resolvePaths(structuredClone(parseConfig(raw, path)) as Config, dirname(path)));
  checkConfigPaths(config, path);
  return config;
}

function resolvePaths(c: Config, base: string): Config {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  c.inference.classifier = abs(c.inference.classifier);
  c.inference.segmenter = abs(c.inference.segmenter);
  c.inference.trustedKeys = c.inference.trustedKeys.map(abs);
  c.state.dir = abs(c.state.dir);
  if (c.publish.curve.keyFile) c.publish.curve.keyFile = abs(c.publish.curve.keyFile);
  if (c.publish.curve.allowListFile) c.publish.curve.allowListFile = abs(c.publish.curve.allowListFile);
  c.publish.curve.allowedClients = c.publish.curve.allowedClients.map((k) => (k.length === 40 && !k.includes('/') ? k : abs(k)));
  if (c.capture.params.location) c.capture.params.location = abs(c.capture.params.location);
  return c;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
