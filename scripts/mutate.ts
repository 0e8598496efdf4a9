/**
 * Mutation testing of the pure, central modules: Stryker changes their code one mutant at a time
 * and runs the matching test file; a mutant the tests do not notice ("survived") marks a gap in
 * what they check. Prints the score per module and writes Stryker's JSON report for each to
 * reports/mutation/<module>.json.
 *
 * Usage: npm run mutate [-- MODULE...]   (default: every module below, one after the other)
 * CPU-heavy and slow: one mutant at a time (concurrency 1), not part of npm test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stryker } from '@stryker-mutator/core';
import { LogLevel, type MutantResult } from '@stryker-mutator/api/core';

interface Target {
  /** Source files mutated. */
  mutate: string[];
  /** Test files run against each mutant. */
  tests: string[];
}

export const TARGETS: Record<string, Target> = {
  decision: { mutate: ['runtime/decision/decision.ts'], tests: ['test/decision.test.ts'] },
  'degrade-policy': { mutate: ['runtime/health/degrade-policy.ts'], tests: ['test/degrade-policy.test.ts'] },
  journal: { mutate: ['runtime/publish/journal.ts'], tests: ['test/journal.test.ts'] },
  protocol: { mutate: ['runtime/publish/protocol.ts'], tests: ['test/protocol.test.ts'] },
  'mask-geometry': { mutate: ['runtime/overlay/mask-geometry.ts'], tests: ['test/mask-geometry.test.ts'] },
  manifest: { mutate: ['runtime/models/manifest.ts', 'runtime/models/bundle-load.ts'], tests: ['test/bundle-manifest.test.ts'] },
};

const REPORT_DIR = 'reports/mutation';

/** Counts per status and Stryker's mutation score: (killed + timeout) / (all but ignored and errors). */
export function score(results: readonly MutantResult[]): {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  errors: number;
  ignored: number;
  pct: number;
} {
  const n = (s: string) => results.filter((r) => r.status === s).length;
  const killed = n('Killed');
  const timeout = n('Timeout');
  const survived = n('Survived');
  const noCoverage = n('NoCoverage');
  const valid = killed + timeout + survived + noCoverage;
  return {
    killed,
    timeout,
    survived,
    noCoverage,
    errors: n('RuntimeError') + n('CompileError'),
    ignored: n('Ignored'),
    pct: valid ? (100 * (killed + timeout)) / valid : 0,
  };
}

async function runOne(name: string, target: Target): Promise<MutantResult[]> {
  const stryker = new Stryker({
    mutate: target.mutate,
    testRunner: 'tap',
    plugins: ['@stryker-mutator/tap-runner'],
    tap: {
      testFiles: target.tests,
      // The tests are TypeScript: the same loader tap uses, transpile-only (types are checked by tsc).
      nodeArgs: ['--import=@tapjs/typescript/import', '{{testFile}}'],
      forceBail: true,
    },
    coverageAnalysis: 'perTest',
    concurrency: 1,
    timeoutMS: 20_000,
    reporters: ['json', 'progress-append-only'],
    jsonReporter: { fileName: join(REPORT_DIR, `${name}.json`) },
    // Only what the unit tests read travels into the sandbox (not models/, var/ or dist/).
    ignorePatterns: ['/*', '!/runtime', '!/test', '!/package.json', '!/tsconfig.json', '!/.taprc'],
    tempDirName: '.stryker-tmp',
    cleanTempDir: 'always',
    logLevel: LogLevel.Warning,
  });
  return stryker.runMutationTest();
}

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  for (const n of names) if (!(n in TARGETS)) throw new Error(`unknown module "${n}"; one of ${Object.keys(TARGETS).join(', ')}`);
  process.env.TS_NODE_TRANSPILE_ONLY = '1';
  mkdirSync(REPORT_DIR, { recursive: true });
  const rows: Array<[string, ReturnType<typeof score>]> = [];
  for (const name of names.length ? names : Object.keys(TARGETS)) {
    const results = await runOne(name, TARGETS[name]);
    const s = score(results);
    rows.push([name, s]);
    console.log(`${name}: ${s.pct.toFixed(1)} % killed (${s.killed} killed, ${s.timeout} timeout, ${s.survived} survived, ${s.noCoverage} no coverage)`);
    for (const r of results.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')) {
      console.log(
        `  ${r.status.padEnd(10)} ${r.fileName}:${r.location.start.line}  ${r.mutatorName}: ${(r.replacement ?? '').replace(/\s+/g, ' ').slice(0, 90)}`,
      );
    }
  }
  console.log('\nmodule            score   killed timeout survived nocov');
  for (const [name, s] of rows) {
    console.log(
      `${name.padEnd(16)} ${s.pct.toFixed(1).padStart(6)} % ${String(s.killed).padStart(7)} ${String(s.timeout).padStart(7)} ${String(s.survived).padStart(8)} ${String(s.noCoverage).padStart(5)}`,
    );
  }
  writeFileSync(join(REPORT_DIR, 'scores.json'), JSON.stringify(Object.fromEntries(rows), null, 2) + '\n');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
