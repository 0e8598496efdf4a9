import t from 'tap';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, LumenError } from '../runtime/errors.js';
import { ROOT } from './helpers/daemon.js';

t.test('every error code is documented in docs/errors.md with its advice', async (t) => {
  const doc = readFileSync(`${ROOT}docs/errors.md`, 'utf8');
  for (const [code, hint] of Object.entries(ERROR_CODES)) {
    t.ok(doc.includes(`| \`${code}\` | ${hint} |`), `${code} documented`);
  }
});

t.test('a LumenError carries its code and the advice for it', async (t) => {
  const e = new LumenError('BUNDLE_HASH', 'x');
  t.equal(e.code, 'BUNDLE_HASH');
  t.equal(e.hint, ERROR_CODES.BUNDLE_HASH);
});
