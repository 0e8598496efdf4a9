import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, parseConfig } from '../config/load.js';

/** Where an installed appliance keeps its config (scripts/provision.sh). */
export const INSTALLED_CONFIG = '/etc/lumen/config.yaml';

/** How a command names the appliance's state: a config file or the state folder itself. */
export interface StateWhere {
  config?: string;
  stateDir?: string;
}

/** The recordings folder: --state-dir, else state.dir of --config (or of the installed config, else the default). */
export async function recordingsRoot(o: StateWhere): Promise<string> {
  if (o.stateDir) return join(resolve(o.stateDir), 'recordings');
  const path = o.config ?? (existsSync(INSTALLED_CONFIG) ? INSTALLED_CONFIG : null);
  const config = path ? await loadConfig(path) : parseConfig({}, 'built-in default');
  return join(config.state.dir, 'recordings');
}
