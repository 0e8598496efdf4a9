import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { commissionFrames } from '../commission/frames.js';
import { proposeRoi } from '../commission/propose.js';
import { proposalPng, proposalYaml } from '../commission/render.js';
import { loadConfig, parseConfig } from '../config/load.js';
import { LumenError } from '../errors.js';
import { createLogger } from '../log.js';

function number(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new LumenError('USAGE', `${flag} ${v}: expected a number from ${min} to ${max}`);
  return n;
}

export function registerCommission(program: Command): void {
  program
    .command('commission')
    .description(
      "propose a site's roi section (active area, privacy masks over burned-in text) from frames of its video processor, with a PNG to check it by eye",
    )
    .argument('[source]', 'a folder of frames or a recording (.mkv, .avi, .mp4); default: the live capture of --config')
    .option('-c, --config <file>', 'site config (its capture section is used for the live capture)')
    .option('-o, --out <file>', 'where to write the proposal (YAML); the PNG goes beside it', 'roi-proposal.yaml')
    .option('--frames <n>', 'frames to look at', '24')
    .option('--max-mask-share <share>', 'refuse masks covering more than this share of the active area (0–1)', '0.15')
    .option('--min-presence <share>', 'a text block must be on at least this share of the frames (0–1)', '0.5')
    .option('--json', 'print the proposal as JSON')
    .action(
      async (source: string | undefined, o: { config?: string; out: string; frames: string; maxMaskShare: string; minPresence: string; json?: boolean }) => {
        const count = Math.round(number('--frames', o.frames, 2, 1000));
        const maxMaskShare = number('--max-mask-share', o.maxMaskShare, 0, 1);
        const minPresence = number('--min-presence', o.minPresence, 0, 1);
        const config = o.config ? await loadConfig(o.config) : parseConfig({}, 'built-in default');
        const { frames, refused, from } = await commissionFrames(
          source ? resolve(source) : null,
          config,
          count,
          createLogger('commission', process.env.LUMEN_LOG_LEVEL ?? 'error'),
        );
        for (const r of refused) process.stderr.write(`lumen: ${r.code}: ${r.message}\n`);
        if (frames.length < 2)
          throw new LumenError('FOLDER_EMPTY', `${source ?? 'the live capture'}: ${frames.length} usable frame(s); commissioning needs at least 2`);
        const p = proposeRoi(frames, { maxMaskShare, minPresence });
        const png = o.out.replace(/\.(ya?ml|json)$/i, '') + '.png';
        await writeFile(png, await proposalPng(frames.find((f) => f.width === p.width && f.height === p.height) ?? frames[0], p));
        if (!p.refused) await writeFile(o.out, proposalYaml(p, from));
        if (o.json) process.stdout.write(JSON.stringify({ ...p, out: p.refused ? null : resolve(o.out), png: resolve(png) }) + '\n');
        else process.stdout.write(proposalYaml(p, from) + (p.refused ? '' : `written: ${resolve(o.out)}\n`) + `picture: ${resolve(png)}\n`);
        if (p.refused) throw new LumenError('COMMISSION_REFUSED', p.refused, { maskShare: p.maskShare });
        // GStreamer's bus poll can keep a pool thread busy after the pipeline closed: exit explicitly.
        process.exit(0);
      },
    );
}
