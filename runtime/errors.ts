/**
 * The one catalogue of error codes. Every error the runtime raises on purpose is a LumenError
 * with a stable `code` from this table; tests assert on codes, people read `hint`.
 */
export const ERROR_CODES = {
  CONFIG_READ: 'The config file cannot be read: check the path and permissions.',
  CONFIG_PARSE: 'The config file is not valid YAML or JSON: fix the syntax at the reported line.',
  CONFIG_INVALID: 'A config key is unknown, has the wrong type or is out of range: fix the key at the reported path.',
  CONFIG_PATH: 'A path in the config is not what it must be (a folder that is a file, a folder that cannot be made): fix the path at the reported key.',
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
  HISTORY_UNAVAILABLE:
    "The daemon's history endpoint did not answer: alerts after the last one shown are held back until it does; check that the daemon runs and its history port is reachable.",
  NOTIFY: 'The systemd notify socket refused a message: check NOTIFY_SOCKET and NotifyAccess= in the unit.',
  GPU_READ: 'The GPU monitoring tool (nvidia-smi or tegrastats) failed: check the driver and the tool.',
  VIEW_LISTEN: 'The viewer cannot listen on that address: pick another --port or --host, or stop the other process.',
  VIEW_TOKEN: 'The viewer token is too short or malformed: use at least 32 characters from A-Z a-z 0-9 - _ (or let lumen view make one).',
  PUBLISH_INSECURE:
    'A socket is reachable from the network without CURVE: enable publish.curve and enrol monitors (lumen monitors add), or set publish.insecure: true on purpose.',
  MONITOR_KEY: "The monitor key is not a CURVE public key: give the 40-character Z85 key from the monitor's .pub file.",
  ALLOWLIST_INVALID: 'The monitor allow-list has a malformed or duplicate line: fix the named line (one "NAME KEY" per line); the running list stays in place.',
  MONITOR_UNKNOWN: 'No monitor of that name is enrolled: see lumen monitors list.',
  KEY_FILE:
    'The CURVE key pair file is unreadable or damaged: restore it from backup, or move it away and run lumen keys ensure (monitors must then get the new public key).',
  IMAGE_INVALID: 'The image file cannot be read or decoded: check the file (PNG, JPEG, …) and its permissions.',
  IMAGE_SIZE: 'The image is too small or too large to be a video frame (32 to 8192 pixels a side): check the file.',
  MASK_SIZE: 'A lesion mask differs in size from its image: export the mask at the image size.',
  FOLDER_EMPTY: 'The folder holds no images: point at a folder of frames (or one with images/ and masks/).',
  COMMISSION_REFUSED: 'The proposed privacy masks would cover too much of the picture: check the frames, or raise --max-mask-share.',
  RECORD_DISK_FULL:
    'The recordings filesystem is full (or below record.retention.minFreeMB): recording stopped and resumes by itself once space is free; alerting goes on. Lower record.retention.quotaMB or free space on the state disk.',
  RECORD_FOLDER:
    'The recordings folder (<state.dir>/recordings) cannot be made or written (missing parent, read-only filesystem, wrong owner): fix it for the service user; recording resumes by itself, alerting goes on.',
  RECORD_WRITE: 'Writing a recording failed for another reason (I/O error): check the state disk (dmesg, SMART); the clip is marked failed, alerting goes on.',
  RECORD_ENCODER:
    'The recording encoder failed or is not installed (record.encoder): install its GStreamer plugin or choose another encoder; alerting goes on without recording.',
  CLIP_UNKNOWN: 'No recording with that id exists on this appliance: see lumen clips list (ids look like clip-20250101T101502Z-e12).',
  CLIP_DELETED: 'Retention already deleted that recording (record.retention); raise clipMaxAgeDays or quotaMB to keep clips longer.',
  CLIP_INCOMPLETE:
    'That recording was cut short (the daemon was killed or lost power while writing it) and is not offered as complete: export it with --incomplete to get what was written.',
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

/**
 * The `code` a system or library error carries (`ENOENT`, `EAGAIN`…), or undefined when it has
 * none: Node and ZeroMQ errors are not LumenErrors, and this is the one place that reads their code.
 */
export function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
