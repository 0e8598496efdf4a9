/** Writes docs/errors.md from the error catalogue (runtime/errors.ts). Usage: node dist/scripts/errors-doc.js */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../runtime/config/paths.js';
import { ERROR_CODES } from '../runtime/errors.js';

const lines = [
  '# Error codes',
  '',
  'Every refusal the runtime makes on purpose carries one of these codes (`runtime/errors.ts`).',
  'The CLI prints `lumen: CODE: message` and, on the next line, what to do; it exits 2.',
  '',
  '| code | what to do |',
  '|---|---|',
  ...Object.entries(ERROR_CODES).map(([code, hint]) => `| \`${code}\` | ${hint} |`),
  '',
];
writeFileSync(join(PROJECT_ROOT, 'docs', 'errors.md'), lines.join('\n'));
