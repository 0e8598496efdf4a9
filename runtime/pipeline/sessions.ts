import { readFile } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import { ModelSession, type SessionOptions } from '../inference/model-session.js';
import type { Logger } from '../log.js';

/** Session options (providers, TensorRT settings, trusted keys) from the config. */
export async function sessionOptions(config: Readonly<Config>): Promise<SessionOptions> {
  const inf = config.inference;
  const trustedKeys = await Promise.all(inf.trustedKeys.map((p) => readFile(p, 'utf8')));
  return {
    providers: inf.providers,
    settings: { deviceId: inf.deviceId, intraOpThreads: inf.intraOpThreads, tensorrt: inf.tensorrt },
    trust: { requireSignature: inf.requireSignature, trustedKeys },
  };
}

/**
 * Opens the configured classifier and segmenter, verified and warmed up; if the second fails the
 * first is closed again, so a refusal leaves nothing open. `overrides` adjusts the options
 * (another provider chain, a progress callback).
 */
export async function openSessions(config: Readonly<Config>, log: Logger, overrides: Partial<SessionOptions> = {}): Promise<[ModelSession, ModelSession]> {
  const opts = { ...(await sessionOptions(config)), ...overrides };
  const classifier = await ModelSession.open(config.inference.classifier, opts, log);
  try {
    return [classifier, await ModelSession.open(config.inference.segmenter, opts, log)];
  } catch (err) {
    await classifier.close();
    throw err;
  }
}
