#!/usr/bin/env node
import './env.js';
import { Command } from 'commander';
import { isLumenError, messageOf } from './errors.js';
import { registerRun } from './commands/run.js';
import { registerWatch } from './commands/watch.js';
import { registerModels } from './commands/models.js';
import { registerFeed } from './commands/feed.js';
import { registerReplay } from './commands/replay.js';
import { registerKeys } from './commands/keys.js';
import { registerMonitors } from './commands/monitors.js';
import { registerFrame } from './commands/frame.js';
import { registerView } from './view/register-view.js';
import { registerDoctor } from './commands/doctor.js';
import { registerCalibrate } from './commands/calibrate.js';
import { registerCommission } from './commands/commission.js';
import { registerClips } from './commands/clips.js';

const program = new Command('lumen').description('Lumen Edge: endoscopy AI appliance runtime').showHelpAfterError();
registerRun(program);
registerWatch(program);
registerModels(program);
registerFeed(program);
registerReplay(program);
registerKeys(program);
registerMonitors(program);
registerFrame(program);
registerView(program);
registerDoctor(program);
registerCalibrate(program);
registerCommission(program);
registerClips(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (isLumenError(err)) {
    process.stderr.write(`lumen: ${err.code}: ${err.message}\n  ${err.hint}\n`);
    process.exit(2);
  }
  process.stderr.write(`lumen: ${messageOf(err)}\n${err instanceof Error ? err.stack : ''}\n`);
  process.exit(1);
});
