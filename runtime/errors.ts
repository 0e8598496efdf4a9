/**
 * The one catalogue of error codes. Every error the runtime raises on purpose is a LumenError
 * with a stable `code` from this table; tests assert on codes, people read `hint`.
 */
export const ERROR_CODES = {
  CONFIG_READ: 'The config file cannot be read: check the path and permissions.',
  CONFIG_PARSE: 'The config file is not valid YAML or JSON: fix the syntax at the reported line.',
  CONFIG_INVALID: 'A config key is unknown or has the wrong type: fix the key at the reported path.',
  PIPELINE_TEMPLATE: 'The pipeline template is unknown or unreadable: use a name from pipelines/.',
  PIPELINE_PARAM: 'A pipeline parameter is missing: set it under capture.params in the config.',
  PIPELINE_ELEMENT: 'A GStreamer element is not installed: install the plugin package that provides it.',
  PIPELINE_START: 'GStreamer could not start the pipeline: read the GStreamer message for the cause.',
  PIPELINE_RUNTIME: 'The pipeline failed while running: check the source (device, cable, file).',
  FEED_INVALID: 'The feed file or its annotations are malformed: regenerate or fix the named entry.',
  QA_BASELINE: 'The QA baseline file is malformed: fix the named metric or key (docs/qa.md).',
  BUNDLE_MISSING: 'A model bundle file is missing: build or install the bundle.',
  BUNDLE_MANIFEST: 'The bundle manifest is malformed: fix the named field.',
  BUNDLE_TASK: 'The bundle declares an unknown task: use classify or segment.',
  BUNDLE_HASH: 'The ONNX file does not match the sha256 in its manifest: reinstall the bundle.',
  BUNDLE_ONNX: 'The ONNX file cannot be loaded (truncated or corrupt): reinstall the bundle.',
  BUNDLE_SIGNATURE: 'The bundle signature is missing or invalid: sign it with a trusted key.',
  BUNDLE_INPUT: 'The model input differs from the manifest (name, shape or type): rebuild or re-import.',
  BUNDLE_OUTPUT: 'A model output named in the manifest is missing or has another shape: re-export.',
  PROVIDER_UNAVAILABLE: 'No execution provider in the configured list could run the model.',
  PUBLISH_BIND: 'The ZeroMQ endpoint cannot be bound: pick a free port or stop the other process.',
  PROTOCOL: 'A message does not follow the Lumen wire protocol: update the client or daemon.',
  NOTIFY: 'The systemd notify socket refused a message: check NOTIFY_SOCKET and NotifyAccess= in the unit.',
  GPU_READ: 'The GPU monitoring tool (nvidia-smi or tegrastats) failed: check the driver and the tool.',
  VIEW_LISTEN: 'The viewer cannot listen on that address: pick another --port or --host, or stop the other process.',
  USAGE: 'The command line is incomplete or inconsistent: see --help.',
  PACKAGE_UNBUILT: 'npm run package was run on a tree that is not built: run npm start (or scripts/setup.sh) first; the message lists what is missing.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An expected failure with a stable code, a message naming what is wrong, and optional detail. */
export class LumenError extends Error {
  readonly code: ErrorCode;
  readonly detail: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, detail: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LumenError';
    this.code = code;
    this.detail = detail;
  }

  /** What the user should do about it. */
  get hint(): string {
    return ERROR_CODES[this.code];
  }
}

export function isLumenError(err: unknown, code?: ErrorCode): err is LumenError {
  return err instanceof LumenError && (code === undefined || err.code === code);
}

/** A message for any thrown value, without a stack. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
