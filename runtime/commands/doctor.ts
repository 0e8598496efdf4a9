import type { Command } from 'commander';
import { builtInConfig } from '../config/default.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { DEMO_FEED } from '../config/paths.js';
import { runChecks } from '../doctor/checks.js';
import { selftest } from '../doctor/selftest.js';
import { messageOf, errnoOf } from '../errors.js';
import { createLogger } from '../log.js';

async function configFrom(path?: string): Promise<{ config: Readonly<Config> | null; error: string | null }> {
  try {
    return { config: path ? await loadConfig(path) : await builtInConfig(), error: null };
  } catch (err) {
    return { config: null, error: messageOf(err) };
  }
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check everything the appliance needs; exit 1 if anything FAILs')
    .option('-c, --config <file>', 'config file (default: the built-in one)')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; json?: boolean }) => {
      const { config, error } = await configFrom(o.config);
      const checks = await runChecks(config, error);
      const failed = checks.some((c) => c.verdict === 'FAIL');
      if (o.json) process.stdout.write(JSON.stringify({ ok: !failed, checks }, null, 2) + '\n');
      else {
        for (const c of checks)
          process.stdout.write(`${c.verdict.padEnd(4)} ${c.name.padEnd(18)} ${c.detail}${c.action ? `\n     ${''.padEnd(18)} → ${c.action}` : ''}\n`);
        process.stdout.write(failed ? 'doctor: FAIL\n' : 'doctor: OK\n');
      }
      process.exitCode = failed ? 1 : 0;
    });
  program
    .command('selftest')
    .description('run the installed models over the demo feed and check that its lesions raise alerts and its bleeding none (exit 1: failed; 2: could not run)')
    .option('-c, --config <file>', 'config file (default: the built-in one)')
    .option('--feed <file>', 'feed with annotations beside it', DEMO_FEED)
    .action(async (o: { config?: string; feed: string }) => {
      const { config, error } = await configFrom(o.config);
      if (!config) {
        process.stdout.write(`FAIL config: ${error}\nselftest: FAIL\n`);
        process.exitCode = 2;
        return;
      }
      try {
        const r = await selftest(config, o.feed, createLogger('selftest', 'warn'));
        process.stdout.write(r.lines.join('\n') + `\nselftest: ${r.ok ? 'OK' : 'FAIL'}\n`);
        process.exitCode = r.ok ? 0 : 1;
      } catch (err) {
        const code = errnoOf(err);
        process.stdout.write(`FAIL ${code ? `${code}: ` : ''}${messageOf(err)}\nselftest: FAIL\n`);
        process.exitCode = 2;
      }
    });
}
