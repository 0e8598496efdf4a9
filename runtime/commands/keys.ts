import type { Command } from 'commander';
import { generateKeyFiles } from '../publish/curve-keys.js';
import { curveSupported } from '../publish/zmq.js';
import { LumenError } from '../errors.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('ZeroMQ CURVE keys for the daemon and monitors');
  keys
    .command('generate')
    .description('make a CURVE key pair: <prefix>.key (keep secret) and <prefix>.pub (hand out)')
    .requiredOption('--out <prefix>', 'file prefix')
    .action(async (o: { out: string }) => {
      if (!curveSupported()) throw new LumenError('USAGE', 'the installed zeromq build has no CURVE support');
      const k = await generateKeyFiles(o.out);
      process.stdout.write(`${o.out}.key\n${o.out}.pub  ${k.publicKey}\n`);
    });
}
