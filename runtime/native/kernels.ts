// native/: the frame loop's pixel and cell loops compiled from C (grid-cells.c: the quality gate's
// sampling; grid-measures.c: its sharpness and region counts; mask-runs.c: the mask plan's fills;
// resize-input.c: a model's input from the frame), built at set-up by `npm run native`.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config/paths.js';
import { messageOf } from '../errors.js';

/**
 * On a 2-core box these loops are most of the frame's work outside the models: compiled, they
 * take about half the time and give the same result to the bit (test/native-kernels.test.ts
 * compares them with the JavaScript on real frames). Without the addon the JavaScript runs:
 * slower, never different. Each C file lays out the arguments of its kernels.
 */
export interface Kernels {
  gridSample(
    data: Uint8Array,
    params: Float64Array,
    /** Empty: no outline. */
    spans: Int32Array,
    valid: Uint8Array,
    luma: Float32Array,
    kind: Uint8Array,
    sums: Float64Array,
  ): void;
  gridSharpness(luma: Float32Array, kind: Uint8Array, params: Float64Array): number;
  regionCounts(valid: Uint8Array, kind: Uint8Array, layout: Int32Array, counts: Int32Array, patches: Uint8Array): void;
  fillRuns(data: Uint8Array, runs: Int32Array): void;
  resizeInput(
    data: Uint8Array,
    params: Float64Array,
    xi0: Int32Array,
    xi1: Int32Array,
    xw: Float64Array,
    xw0: Float64Array,
    yi0: Int32Array,
    yi1: Int32Array,
    yw: Float64Array,
    yw0: Float64Array,
    out: Float32Array,
  ): void;
}

/** Where set-up builds the addon. */
export const KERNELS_PATH = join(PROJECT_ROOT, 'runtime', 'native', 'build', 'Release', 'kernels.node');

/** The addon at `path`, or why it would not load (missing, not a Node addon, built for another Node). */
export function loadKernels(path: string): { kernels: Kernels; why: null } | { kernels: null; why: string } {
  try {
    const k = createRequire(import.meta.url)(path) as Partial<Kernels>;
    const missing = KERNEL_NAMES.filter((name) => typeof k[name] !== 'function');
    return missing.length === 0 ? { kernels: k as Kernels, why: null } : { kernels: null, why: `${path} lacks ${missing.join(', ')}` };
  } catch (err) {
    return { kernels: null, why: messageOf(err) };
  }
}

const KERNEL_NAMES = ['gridSample', 'gridSharpness', 'regionCounts', 'fillRuns', 'resizeInput'] as const;

const loaded = loadKernels(KERNELS_PATH);

/** The compiled kernels, or null when they are not built or would not load (kernelsState says why). */
export const kernels: Kernels | null = loaded.kernels;

/** Which loops run, for the daemon's start log and `lumen doctor`. */
export function kernelsState(): { compiled: boolean; detail: string } {
  return loaded.kernels
    ? { compiled: true, detail: 'compiled pixel loops (quality gate sampling, model input)' }
    : { compiled: false, detail: `JavaScript pixel loops: the compiled ones did not load (${loaded.why}); build them with npm run native` };
}
