import type { Command } from 'commander';
import { LumenError } from '../errors.js';
import { Catalogue, type RecordingInfo } from '../record/catalogue.js';
import { exportRecording } from '../record/export.js';
import { INSTALLED_CONFIG, recordingsRoot, type StateWhere as Where } from '../record/recordings-root.js';

function where(c: Command): Command {
  return c
    .option('-c, --config <file>', `the daemon config naming state.dir (default: ${INSTALLED_CONFIG} when present)`)
    .option('--state-dir <dir>', 'the state folder itself (recordings are in its recordings/ folder)');
}

function line(r: RecordingInfo): string {
  const start = r.startTs ? new Date(r.startTs).toISOString().replace('T', ' ').slice(0, 19) : '—'.padEnd(19);
  const secs = r.startTs && r.endTs ? ((r.endTs - r.startTs) / 1000).toFixed(1) : '—';
  const frames = r.firstFrame !== null ? `${r.frames} (${r.firstFrame}–${r.lastFrame ?? '…'})` : String(r.frames);
  const alert = r.alert ? `episode ${r.alert.episode}` : '';
  return `${r.id.padEnd(30)} ${r.kind.padEnd(8)} ${r.state.padEnd(10)} ${start}  ${secs.padStart(6)} s  ${frames.padEnd(18)} ${(r.bytes / 2 ** 20).toFixed(1).padStart(7)} MB  ${alert}\n`;
}

/** `lumen clips`: the recordings on this appliance (docs/recording.md). */
export function registerClips(program: Command): void {
  const clips = program.command('clips').description('alert clips and procedure segments recorded on this appliance');
  where(clips.command('list'))
    .description('list recordings, oldest first (deleted clips with --all)')
    .option('--json', 'machine-readable output')
    .option('--all', 'also the clips retention deleted')
    .action(async (o: Where & { json?: boolean; all?: boolean }) => {
      const root = await recordingsRoot(o);
      const list = (await Catalogue.read(root)).list().filter((r) => o.all || r.state !== 'deleted');
      if (o.json) process.stdout.write(JSON.stringify({ folder: root, recordings: list }, null, 2) + '\n');
      else if (!list.length) process.stdout.write(`no recordings in ${root}\n`);
      else
        process.stdout.write(
          `${'id'.padEnd(30)} ${'kind'.padEnd(8)} ${'state'.padEnd(10)} ${'start (UTC)'.padEnd(19)}  length    frames (ids)          size\n${list.map(line).join('')}`,
        );
    });
  where(clips.command('export').argument('<id>', 'the recording (an alert names its clip id; see lumen clips list)'))
    .description('write one recording (video, annotation sidecar, record) into one tar file, mode 0600')
    .requiredOption('-o, --out <file>', 'the file to write (never overwritten)')
    .option('--incomplete', 'also a recording cut short by a crash or a fault (its state says so)')
    .action(async (id: string, o: Where & { out: string; incomplete?: boolean }) => {
      const cat = await Catalogue.read(await recordingsRoot(o));
      const r = cat.lookup(id);
      if (r.state !== 'complete' && !o.incomplete) {
        throw new LumenError(
          'CLIP_INCOMPLETE',
          `recording ${id} is ${r.state}${r.error ? ` (${r.error.code}: ${r.error.message})` : ''}, not complete: pass --incomplete to export what was written`,
          { id, state: r.state },
        );
      }
      const done = await exportRecording(cat, r, o.out);
      process.stdout.write(
        `exported ${id} (${r.state}, ${r.frames} frames) to ${o.out}: ${done.members.join(', ')}; ${done.bytes} bytes; video sha256 ${done.sha256}\n`,
      );
    });
}
