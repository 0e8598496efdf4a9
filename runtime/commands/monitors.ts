import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { LumenError } from '../errors.js';
import { checkMonitorKey, MONITOR_NAME, readAllowList, writeAllowList, type Monitor } from '../publish/allow-list.js';
import { isCurveKey } from '../publish/z85.js';

/** Where an installed appliance keeps its config (scripts/provision.sh). */
const DEFAULT_CONFIG = '/etc/lumen/config.yaml';

interface Where {
  config: string;
  file?: string;
}

/** The allow-list file: --file, or publish.curve.allowListFile of the config. */
async function allowListPath(o: Where): Promise<{ path: string; curveOn: boolean | null }> {
  if (o.file) return { path: o.file, curveOn: null };
  const config = await loadConfig(o.config);
  const path = config.publish.curve.allowListFile;
  if (!path) throw new LumenError('USAGE', `${o.config}: publish.curve.allowListFile is not set; set it (e.g. /etc/lumen/monitors.list) or pass --file`);
  return { path, curveOn: config.publish.curve.enabled };
}

/** A key given inline (Z85) or as a monitor's .pub file; never a key pair file (it holds a secret). */
async function monitorKey(spec: string): Promise<{ key: string; fromFile?: string }> {
  if (isCurveKey(spec)) return { key: spec };
  let text: string;
  try {
    text = (await readFile(spec, 'utf8')).trim();
  } catch {
    throw new LumenError('MONITOR_KEY', `${spec.slice(0, 80)}: neither a 40-character Z85 CURVE public key nor a readable .pub file`);
  }
  if (text.startsWith('{'))
    throw new LumenError('MONITOR_KEY', `${spec} is a key pair file holding a secret key: give the monitor's .pub file (the secret never leaves the monitor)`);
  checkMonitorKey(text, spec);
  return { key: text, fromFile: spec };
}

function defaultName(list: readonly Monitor[], fromFile?: string): string {
  const fromPath = fromFile ? basename(fromFile).replace(/\.pub$/, '') : '';
  if (fromPath && MONITOR_NAME.test(fromPath)) return fromPath;
  for (let n = 1; ; n++) if (!list.some((m) => m.name === `monitor-${n}`)) return `monitor-${n}`;
}

function whereOptions(c: Command): Command {
  return c
    .option('-c, --config <file>', 'the daemon config naming publish.curve.allowListFile', DEFAULT_CONFIG)
    .option('--file <path>', 'the allow-list file itself (instead of reading the config)');
}

/** `lumen monitors`: enrol, list and remove the bedside monitors allowed to connect (CURVE). */
export function registerMonitors(program: Command): void {
  const monitors = program.command('monitors').description('enrol the monitors allowed to receive from the daemon (CURVE allow-list; applied without restart)');
  whereOptions(
    monitors
      .command('add')
      .argument('<key>', "the monitor's public key: its .pub file or the 40-character Z85 key")
      .option('--name <name>', 'a name for the monitor, e.g. the bed (default: the .pub file name)'),
  )
    .description('enrol a monitor: the running daemon admits it within a second')
    .action(async (spec: string, o: Where & { name?: string }) => {
      const { key, fromFile } = await monitorKey(spec);
      const { path, curveOn } = await allowListPath(o);
      const list = await readAllowList(path);
      const name = o.name ?? defaultName(list, fromFile);
      if (!MONITOR_NAME.test(name))
        throw new LumenError('USAGE', `--name ${name.slice(0, 80)}: use A-Z a-z 0-9 . _ - (up to 64, starting with a letter, digit or _)`);
      const sameKey = list.find((m) => m.key === key);
      const sameName = list.find((m) => m.name === name);
      if (sameKey && sameKey === sameName) {
        process.stdout.write(`${name} is already enrolled (${path})\n`);
        return;
      }
      if (sameKey) throw new LumenError('ALLOWLIST_INVALID', `this key is already enrolled as ${sameKey.name} in ${path}`);
      if (sameName)
        throw new LumenError(
          'ALLOWLIST_INVALID',
          `a monitor named ${name} is already enrolled in ${path} with another key: remove it first or pick another --name`,
        );
      await writeAllowList(path, [...list, { name, key }]);
      process.stdout.write(`enrolled ${name} ${key} in ${path}; the running daemon admits it within a second\n`);
      if (curveOn === false) process.stdout.write(`note: publish.curve is off in ${o.config}: the list takes effect once CURVE is enabled\n`);
    });
  whereOptions(monitors.command('list'))
    .description('list enrolled monitors')
    .option('--json', 'machine-readable output')
    .action(async (o: Where & { json?: boolean }) => {
      const { path } = await allowListPath(o);
      const list = await readAllowList(path);
      if (o.json) process.stdout.write(JSON.stringify({ file: path, monitors: list }, null, 2) + '\n');
      else process.stdout.write(list.length ? list.map((m) => `${m.name.padEnd(20)} ${m.key}\n`).join('') : `no monitors enrolled (${path})\n`);
    });
  whereOptions(monitors.command('remove').argument('<name>', 'the monitor to remove (see lumen monitors list)'))
    .description('remove a monitor: the running daemon disconnects it within seconds')
    .action(async (name: string, o: Where) => {
      const { path } = await allowListPath(o);
      const list = await readAllowList(path);
      const left = list.filter((m) => m.name !== name);
      if (left.length === list.length)
        throw new LumenError('MONITOR_UNKNOWN', `no monitor named ${name.slice(0, 80)} in ${path} (enrolled: ${list.map((m) => m.name).join(', ') || 'none'})`);
      await writeAllowList(path, left);
      process.stdout.write(`removed ${name} from ${path}; the running daemon disconnects it within seconds\n`);
    });
}
