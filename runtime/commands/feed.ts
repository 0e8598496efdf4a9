import type { Command } from 'commander';
import { LumenError } from '../errors.js';
import { makeFeed } from '../feed/make-feed.js';

function size(v: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new LumenError('USAGE', `--size ${v}: expected WIDTHxHEIGHT, e.g. 1280x720`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new LumenError('USAGE', `${name} ${v}: expected a positive number`);
  return n;
}

export function registerFeed(program: Command): void {
  const feed = program.command('feed').description('synthetic endoscopy feeds');
  feed
    .command('make')
    .description('render a synthetic feed (.mkv or .avi, MJPEG) and its annotations beside it')
    .requiredOption('-o, --out <file>', 'output video, .mkv or .avi')
    .option('--seconds <s>', 'length', '20')
    .option('--seed <n>', 'random seed', '1')
    .option('--size <WxH>', 'frame size', '1280x720')
    .option('--fps <f>', 'frame rate', '30')
    .option('--demo', 'lesion episodes only, on the demo schedule')
    .option('--no-osd', 'no burned-in on-screen text (patient data, clock, settings)')
    .action(async (o: { out: string; seconds: string; seed: string; size: string; fps: string; demo?: boolean; osd: boolean }) => {
      const { width, height } = size(o.size);
      const fps = Math.round(positive('--fps', o.fps));
      const seconds = positive('--seconds', o.seconds);
      const seed = Math.floor(Number(o.seed));
      const t0 = Date.now();
      let last = 0;
      const made = await makeFeed(o.out, { width, height, fps, seconds, seed, episodes: o.demo ? 'demo' : 'full', osd: o.osd }, (done, total) => {
        if (process.stderr.isTTY && (Date.now() - last > 200 || done === total)) {
          last = Date.now();
          process.stderr.write(`\rrendering ${done}/${total} frames`);
        }
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(
        `${made.video}: ${made.frames} frames ${width}×${height} @ ${fps} fps in ${((Date.now() - t0) / 1000).toFixed(1)} s\n${made.annotations}\n`,
      );
    });
}
