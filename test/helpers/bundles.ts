import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../../runtime/models/manifest.js';
import { ROOT, tempDir } from './daemon.js';

/** A private copy of a built bundle, to damage in a test. */
export function copyBundle(id: string, into = tempDir('lumen-bundle-')): string {
  const dir = join(into, id);
  cpSync(join(ROOT, 'models', id), dir, { recursive: true });
  return dir;
}

/** The manifest of a built bundle (or of a copy a test has rewritten: whatever JSON is there). */
export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

export function writeManifest(dir: string, m: unknown): void {
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
}

/** A shallow copy of `o` without `keys`: e.g. the draft of a manifest, less what writeBundle adds. */
export function omit<T extends object, K extends keyof T>(o: T, ...keys: K[]): Omit<T, K> {
  const copy: Partial<T> = { ...o };
  for (const k of keys) delete copy[k];
  return copy as Omit<T, K>;
}
