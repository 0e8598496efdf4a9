import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { ensureKeyFiles, generateKeyFiles } from '../publish/curve-keys.js';
import { curveSupported } from '../publish/zmq.js';
import { LumenError } from '../errors.js';

const run = promisify(execFile);

/** uid and gid of a system user, by name (installers pass the service user). */
async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  try {
    const [u, g] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
  } catch {
    throw new LumenError('USAGE', `--owner ${name}: no such user (create the service user first: systemd-sysusers)`);
  }
}

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
  keys
    .command('ensure')
    .description("the daemon's key pair for installers: made if missing, never replaced; secret mode 600 (exit 2 if the existing pair is damaged)")
    .requiredOption('--out <prefix>', 'file prefix, e.g. /etc/lumen/keys/daemon')
    .option('--owner <user>', 'give the secret key to this user (the service user, e.g. lumen)')
    .action(async (o: { out: string; owner?: string }) => {
      if (!curveSupported()) throw new LumenError('USAGE', 'the installed zeromq build has no CURVE support');
      const owner = o.owner ? await userIds(o.owner) : undefined;
      await mkdir(dirname(o.out), { recursive: true, mode: 0o750 });
      const r = await ensureKeyFiles(o.out, owner);
      process.stdout.write(`${r.created ? 'created' : 'kept'} ${o.out}.key\n${o.out}.pub  ${r.publicKey}\n`);
      for (const f of r.fixed) process.stdout.write(`fixed ${f}\n`);
    });
}
