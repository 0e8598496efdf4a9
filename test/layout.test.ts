import t from 'tap';
import ts from 'typescript';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './helpers/daemon.js';

// The house rules a reader relies on: each folder says what it is where one starts reading, and
// no file is too long to read in one sitting.

const RUNTIME = join(ROOT, 'runtime');
const MAX_LINES = 400;
/** A class longer than this does more than one job (about 200 lines, with room for comments). */
const MAX_CLASS_LINES = 220;

function folders(dir: string): string[] {
  const subs = readdirSync(dir).filter((f) => statSync(join(dir, f)).isDirectory());
  return subs.flatMap((f) => [join(dir, f), ...folders(join(dir, f))]);
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(f) ? [path] : [];
  });
}

t.test('each folder under runtime/ opens its first file with what the folder is', async (t) => {
  for (const dir of folders(RUNTIME)) {
    const name = relative(RUNTIME, dir);
    // TypeScript first; a folder of browser scripts (view/public) by its first .js file.
    const files = readdirSync(dir).sort();
    const first = files.find((f) => f.endsWith('.ts')) ?? files.find((f) => f.endsWith('.js'));
    if (!first) continue;
    const line = readFileSync(join(dir, first), 'utf8').split('\n')[0];
    t.match(line, new RegExp(`^// ${name}/: \\S`), `${name}/${first} opens with "// ${name}/: …"`);
  }
});

t.test(`no source file is over ${MAX_LINES} lines`, async (t) => {
  for (const file of [...sources(RUNTIME), ...sources(join(ROOT, 'scripts'))]) {
    const name = relative(ROOT, file);
    const lines = readFileSync(file, 'utf8').split('\n').length - 1;
    t.ok(lines <= MAX_LINES, `${name}: ${lines} lines`);
  }
});

t.test(`no class is over ${MAX_CLASS_LINES} lines`, async (t) => {
  let classes = 0;
  for (const file of [...sources(RUNTIME), ...sources(join(ROOT, 'scripts'))].filter((f) => f.endsWith('.ts'))) {
    const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node): void => {
      if (ts.isClassDeclaration(n)) {
        classes++;
        const lines = src.getLineAndCharacterOfPosition(n.getEnd()).line - src.getLineAndCharacterOfPosition(n.getStart(src)).line + 1;
        t.ok(lines <= MAX_CLASS_LINES, `${relative(ROOT, file)}: class ${n.name?.text ?? '(anonymous)'}, ${lines} lines`);
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
  }
  t.ok(classes > 50, `${classes} classes looked at (the walk finds them)`);
});
