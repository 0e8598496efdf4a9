// doctor/: `lumen doctor` and `lumen selftest`: checks of what the appliance needs, and the installed
// models run over the demo feed.
import { execFile } from 'node:child_process';
import { existsSync, statfsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Config } from '../config/schema.js';
import { PIPELINES_DIR } from '../config/paths.js';
import { hasElement } from '../capture/gst.js';
import { elementsOf, loadTemplate, renderTemplate } from '../capture/template.js';
import { errnoOf, messageOf } from '../errors.js';
import { bindingInfo, OrtSession } from '../inference/ort.js';
import type { ProviderName } from '../inference/providers.js';
import { createLogger } from '../log.js';
import { loadBundle } from '../models/bundle-load.js';
import { listenProbe } from '../metrics/listen-probe.js';
import { kernelsState } from '../native/kernels.js';
import { bindHistory, bindPublisher, curveSupported, zmqVersion } from '../publish/zmq.js';
import { securityChecks } from './security-checks.js';
import { recordChecks } from './record-checks.js';

const run = promisify(execFile);

export type Verdict = 'OK' | 'WARN' | 'FAIL';

/** One line of `lumen doctor`: what was checked, the verdict, and what to do about it. */
export interface Check {
  name: string;
  verdict: Verdict;
  detail: string;
  action?: string;
}

const ok = (name: string, detail: string): Check => ({ name, verdict: 'OK', detail });
const warn = (name: string, detail: string, action: string): Check => ({ name, verdict: 'WARN', detail, action });
const fail = (name: string, detail: string, action: string): Check => ({ name, verdict: 'FAIL', detail, action });

/** Every check, in the order a technician would fix things. Never throws: a failure is a line. */
export async function runChecks(config: Readonly<Config> | null, configError: string | null): Promise<Check[]> {
  const checks: Check[] = [];
  checks.push(configError ? fail('config', configError, 'fix the key named, then run lumen doctor again') : ok('config', 'valid'));
  if (!config) return checks;
  checks.push(...(await gstreamerChecks(config)));
  checks.push(...(await deviceChecks(config)));
  checks.push(...(await bundleChecks(config)));
  checks.push(...(await providerChecks(config)));
  checks.push(...(await socketChecks(config)));
  checks.push(...(await securityChecks(config)));
  checks.push(await metricsCheck(config));
  checks.push(...diskChecks(config));
  checks.push(...(await recordChecks(config)));
  checks.push(await clockCheck());
  checks.push(notifyCheck());
  checks.push(kernelsCheck());
  return checks;
}

async function gstreamerChecks(config: Readonly<Config>): Promise<Check[]> {
  try {
    const t = await loadTemplate(PIPELINES_DIR, config.capture.pipeline);
    const launch = renderTemplate(t, config.capture.params, '');
    const missing = elementsOf(launch).filter((e) => !hasElement(e));
    return [
      missing.length
        ? fail(
            'gstreamer',
            `pipeline "${t.name}" needs ${missing.join(', ')}, not installed`,
            'install the GStreamer plugin package that provides it (JetPack for nv* elements)',
          )
        : ok('gstreamer', `pipeline "${t.name}": ${elementsOf(launch).join(', ')} present`),
    ];
  } catch (err) {
    return [fail('gstreamer', messageOf(err), 'set capture.pipeline and capture.params in the config')];
  }
}

async function deviceChecks(config: Readonly<Config>): Promise<Check[]> {
  const device = config.capture.params.device;
  if (!device) return [];
  if (!existsSync(device))
    return [fail('capture device', `${device} does not exist`, 'connect the capture card and check its cable, or set capture.params.device')];
  try {
    const { stdout } = await run('v4l2-ctl', ['-d', device, '--list-formats-ext'], { timeout: 5000 });
    const formats = [...stdout.matchAll(/'(\w+)'/g)].map((m) => m[1]);
    return [ok('capture device', `${device}: formats ${[...new Set(formats)].join(', ') || 'none listed'}`)];
  } catch {
    return [warn('capture device', `${device} present; formats not listed`, 'install v4l-utils to list its formats')];
  }
}

async function bundleChecks(config: Readonly<Config>): Promise<Check[]> {
  const inf = config.inference;
  const trustedKeys = await Promise.all(inf.trustedKeys.map((k) => readFile(k, 'utf8').catch(() => '')));
  const out: Check[] = [];
  for (const [role, dir] of [
    ['classifier', inf.classifier],
    ['segmenter', inf.segmenter],
  ] as const) {
    try {
      const b = await loadBundle(dir, { requireSignature: inf.requireSignature, trustedKeys });
      const flags = [b.manifest.signature ? 'signed' : 'unsigned', b.manifest.clinical ? 'clinical' : 'NOT CLINICAL'];
      out.push(
        b.manifest.clinical
          ? ok(`bundle ${role}`, `${b.manifest.id} ${b.manifest.version} (${flags.join(', ')}), sha256 verified`)
          : warn(
              `bundle ${role}`,
              `${b.manifest.id} ${b.manifest.version} (${flags.join(', ')}), sha256 verified`,
              "install the site's trained bundle before clinical use",
            ),
      );
    } catch (err) {
      const code = errnoOf(err) ?? 'ERROR';
      out.push(fail(`bundle ${role}`, `${code}: ${messageOf(err)}`, 'reinstall the bundle (lumen models verify shows each problem)'));
    }
  }
  return out;
}

async function providerChecks(config: Readonly<Config>): Promise<Check[]> {
  const info = bindingInfo();
  const out: Check[] = [
    ok(
      'onnxruntime',
      `onnxruntime-node ${info.version}; providers in this binding: ${info.providers.map((p) => `${p.name}${p.bundled ? '' : ' (needs libraries)'}`).join(', ')}; TensorRT options via ORT_TENSORRT_* environment`,
    ),
  ];
  let model: Uint8Array;
  try {
    model = (await loadBundle(config.inference.classifier)).onnx;
  } catch {
    // No loadable classifier: the bundle check has already failed and said why.
    return out;
  }
  const log = createLogger('doctor', 'silent');
  const inf = config.inference;
  let usable = 0;
  for (const p of inf.providers as readonly ProviderName[]) {
    try {
      const { session } = await OrtSession.create(model, [p], { deviceId: inf.deviceId, intraOpThreads: 1, tensorrt: inf.tensorrt }, log, 'doctor');
      await session.close();
      usable++;
      out.push(ok(`provider ${p}`, 'usable'));
    } catch (err) {
      const reason = ((err as { detail?: { attempts?: { reason?: string }[] } }).detail?.attempts?.[0]?.reason ?? messageOf(err)).slice(0, 160);
      out.push(
        warn(
          `provider ${p}`,
          `not usable: ${reason}`,
          p === 'tensorrt' || p === 'cuda' ? 'install an onnxruntime build with this provider (models/README.md)' : 'check the GPU driver',
        ),
      );
    }
  }
  if (!usable)
    out.push(
      fail('providers', `none of ${inf.providers.join(', ')} can run the models`, 'add cpu to inference.providers or install a GPU-enabled onnxruntime'),
    );
  return out;
}

async function socketChecks(config: Readonly<Config>): Promise<Check[]> {
  const out: Check[] = [];
  const p = config.publish;
  for (const [name, endpoint, bind] of [
    ['publish endpoint', p.endpoint, (e: string) => bindPublisher(e, 1)],
    ['history endpoint', p.historyEndpoint, (e: string) => bindHistory(e)],
  ] as const) {
    try {
      const s = await bind(endpoint);
      s.close();
      out.push(ok(name, `${endpoint} bindable`));
    } catch (err) {
      const inUse = /in use/i.test(messageOf(err));
      out.push(
        inUse
          ? warn(name, `${endpoint} is in use`, 'fine if the daemon is running; otherwise stop the process holding it')
          : fail(name, `${endpoint}: ${messageOf(err)}`, 'fix the endpoint address in publish'),
      );
    }
  }
  const curve = curveSupported();
  out.push(
    curve
      ? ok('zeromq', `libzmq ${zmqVersion()} with CURVE${p.curve.enabled ? ' (enabled)' : ' (available, not enabled)'}`)
      : p.curve.enabled
        ? fail('zeromq', `libzmq ${zmqVersion()} has no CURVE, but publish.curve.enabled is set`, 'install a zeromq build with libsodium/CURVE')
        : warn('zeromq', `libzmq ${zmqVersion()} has no CURVE`, 'transport is unencrypted; install a CURVE-capable build'),
  );
  return out;
}

/** The metrics address: in use is a WARN (the daemon runs on without metrics), as is any other listen error. */
async function metricsCheck(config: Readonly<Config>): Promise<Check> {
  const m = config.metrics;
  if (!m.enabled) return ok('metrics', 'disabled (metrics.enabled: false)');
  const code = await listenProbe(m.address);
  if (code === null) return ok('metrics', `${m.address} free: /metrics will be served there`);
  return code === 'EADDRINUSE'
    ? warn('metrics', `${m.address} is in use`, 'fine if the daemon is running; otherwise stop the process holding it or set metrics.address')
    : warn('metrics', `${m.address}: cannot listen (${code})`, 'set metrics.address to an address of this host');
}

function diskChecks(config: Readonly<Config>): Check[] {
  const out: Check[] = [];
  for (const [name, dir] of [
    ['disk state', config.state.dir],
    ['disk cache', config.inference.tensorrt.engineCacheDir],
  ] as const) {
    let probe = dir;
    while (!existsSync(probe) && probe !== '/') probe = probe.replace(/\/[^/]*$/, '') || '/';
    const s = statfsSync(probe);
    const freeMB = Math.round((s.bavail * s.bsize) / 2 ** 20);
    out.push(
      freeMB < 100
        ? fail(name, `${dir}: ${freeMB} MB free`, 'free space: the alert journal and engine cache need room')
        : freeMB < 1024
          ? warn(name, `${dir}: ${freeMB} MB free`, 'free some space soon')
          : ok(name, `${dir}: ${freeMB} MB free`),
    );
  }
  return out;
}

async function clockCheck(): Promise<Check> {
  const year = new Date().getUTCFullYear();
  if (year < 2025) return fail('clock', `system time is ${new Date().toISOString()}`, 'set the clock (alert times and journal order depend on it)');
  try {
    const { stdout } = await run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 3000 });
    return stdout.trim() === 'yes'
      ? ok('clock', `${new Date().toISOString()}, NTP synchronised`)
      : warn('clock', `${new Date().toISOString()}, not NTP synchronised`, 'enable time sync (systemd-timesyncd or chrony)');
  } catch {
    return warn('clock', `${new Date().toISOString()}; synchronisation unknown`, 'check time sync with timedatectl');
  }
}

/** The compiled pixel loops: without them the frame loop runs, at about twice the cost outside the models. */
function kernelsCheck(): Check {
  const k = kernelsState();
  return k.compiled ? ok('pixel loops', k.detail) : warn('pixel loops', k.detail, 'build them (npm run native) or reinstall the runtime');
}

function notifyCheck(): Check {
  try {
    createRequire(import.meta.url).resolve('unix-dgram');
    return ok('systemd notify', "unix-dgram addon present (READY/WATCHDOG from the daemon's own PID)");
  } catch {
    return fail('systemd notify', 'unix-dgram addon missing', 'reinstall the runtime (npm ci)');
  }
}
