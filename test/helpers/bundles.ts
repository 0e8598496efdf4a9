import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './daemon.js';

/** A private copy of a built bundle, to damage in a test. */
export function copyBundle(id: string, into = tempDir('lumen-bundle-')): string {
  const dir = join(into, id);
  cpSync(join(ROOT, 'models', id), dir, { recursive: true });
  return dir;
}

export function readManifest(dir: string): Record<string, any> {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
}

export function writeManifest(dir: string, m: unknown): void {
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
}
