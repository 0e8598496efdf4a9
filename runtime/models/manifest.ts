import { z } from 'zod';

/** Bundle format identifier; a manifest of another format is refused. */
export const BUNDLE_FORMAT = 'lumen-bundle/1';

export const TASKS = ['classify', 'segment'] as const;
export type Task = (typeof TASKS)[number];

const dims = z.array(z.number().int().positive()).min(1);
const triple = z.tuple([z.number(), z.number(), z.number()]);

/** The model's one image input and how a frame becomes that tensor. */
export const InputSpecSchema = z.strictObject({
  name: z.string().min(1),
  /** [1, 3, H, W] for NCHW. */
  shape: dims,
  type: z.literal('float32'),
  layout: z.literal('NCHW'),
  colorOrder: z.enum(['RGB', 'BGR']),
  /** value = (pixel × scale − mean[c]) / std[c], pixel in 0…255. */
  scale: z.number().positive(),
  mean: triple,
  std: triple.refine((s) => s.every((v) => v > 0), 'std must be positive'),
});

export const OutputSpecSchema = z.strictObject({
  name: z.string().min(1),
  shape: dims,
  meaning: z.string().min(1),
  classes: z.array(z.string().min(1)).optional(),
});

export const SignatureSchema = z.strictObject({
  alg: z.literal('ed25519'),
  /** sha256 of the public key (DER, SPKI), hex: names the key without carrying it. */
  keyId: z.string().regex(/^[0-9a-f]{64}$/),
  /** base64 signature over the manifest's canonical payload (see bundle-sign). */
  value: z.string().min(1),
});

export const ManifestSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, dot, dash, underscore'),
  version: z.string().min(1),
  task: z.string(),
  description: z.string(),
  /** False for reference and structural models: never to be used on patients. */
  clinical: z.boolean(),
  input: InputSpecSchema,
  outputs: z.array(OutputSpecSchema).min(1),
  /** Decision thresholds on the model's probability, e.g. { suspicious: 0.5 }. */
  thresholds: z.record(z.string(), z.number().min(0).max(1)),
  onnx: z.strictObject({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  /** Free-form facts about how the bundle was made (seed, builder, training figures). */
  provenance: z.record(z.string(), z.unknown()).optional(),
  signature: SignatureSchema.optional(),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type InputSpec = z.infer<typeof InputSpecSchema>;
export type OutputSpec = z.infer<typeof OutputSpecSchema>;

/** The outputs each task must provide, by name; see models/README.md. */
export const TASK_CONTRACT: Record<Task, { outputs: string[] }> = {
  classify: { outputs: ['logits', 'attention'] },
  segment: { outputs: ['logits'] },
};
