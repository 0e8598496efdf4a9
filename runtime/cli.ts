#!/usr/bin/env node
import './env.js';
import { Command } from 'commander';
import { isLumenError, messageOf } from './errors.js';

type Register = (program: Command) => void;

/**
 * Each command's module, imported only when that command runs: `lumen watch` or `lumen keys`
 * must not load GStreamer, ONNX Runtime or sharp, which `lumen run` needs.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  run: async () => (await import('./commands/run.js')).registerRun,
  watch: async () => (await import('./commands/watch.js')).registerWatch,
  models: async () => (await import('./commands/models.js')).registerModels,
  feed: async () => (await import('./commands/feed.js')).registerFeed,
  replay: async () => (await import('./commands/replay.js')).registerReplay,
  keys: async () => (await import('./commands/keys.js')).registerKeys,
  monitors: async () => (await import('./commands/monitors.js')).registerMonitors,
  frame: async () => (await import('./commands/frame.js')).registerFrame,
  view: async () => (await import('./view/register-view.js')).registerView,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  selftest: async () => (await import('./commands/doctor.js')).registerDoctor,
  calibrate: async () => (await import('./commands/calibrate.js')).registerCalibrate,
  commission: async () => (await import('./commands/commission.js')).registerCommission,
  clips: async () => (await import('./commands/clips.js')).registerClips,
};

/** The command named on the command line (`lumen help X` names X); null: none, or one we do not know. */
function commandNamed(argv: readonly string[]): string | null {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? name : null;
}

async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('lumen').description('Lumen Edge: endoscopy AI appliance runtime').showHelpAfterError();
  const name = commandNamed(argv);
  // Without a known command (the overview, a typo) every command is listed, so all are loaded.
  const registers = await Promise.all((name ? [COMMANDS[name]] : Object.values(COMMANDS)).map((load) => load()));
  for (const register of new Set(registers)) register(program);
  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  if (isLumenError(err)) {
    process.stderr.write(`lumen: ${err.code}: ${err.message}\n  ${err.hint}\n`);
    process.exit(2);
  }
  process.stderr.write(`lumen: ${messageOf(err)}\n${err instanceof Error ? err.stack : ''}\n`);
  process.exit(1);
});
