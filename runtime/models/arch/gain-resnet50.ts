import { checkInt, imagenetInput, Net, type BuiltModel, type Feature } from './layers.js';

export interface GainResNet50Options {
  /** Weight-init seed, an integer in 0 … 2³²−1. */
  seed: number;
  /** Class names, in logit order; default ['normal', 'egc']. */
  classes?: readonly string[];
  /** The class whose activation map is the `attention` output; default 'egc'. */
  attentionClass?: string;
  /** Square input side in pixels; default 224 (attention is then 7×7). */
  inputSize?: number;
}

/** Bottleneck widths and block counts of ResNet-50's four stages (torchvision `resnet50`). */
const STAGES = [
  { width: 64, blocks: 3, stride: 1 },
  { width: 128, blocks: 4, stride: 2 },
  { width: 256, blocks: 6, stride: 2 },
  { width: 512, blocks: 3, stride: 2 },
] as const;
const EXPANSION = 4;

/**
 * GAIN-ResNet-50: torchvision's ResNet-50 (v1.5: stride on the 3×3 conv of each bottleneck) with
 * GAIN's inference-time attention, the class-activation map of `attentionClass` computed from the
 * last feature map with the fc layer's own weights (Gather of its row, as a 1×1 conv, plus bias).
 * Input `image` [1, 3, S, S]; outputs `logits` [1, C] and `attention` [1, 1, S/32, S/32].
 * With 1000 classes it has torchvision's 25,557,032 parameters; with 2, 23,512,130.
 */
export function buildGainResNet50(options: GainResNet50Options): BuiltModel {
  const { seed, classes = ['normal', 'egc'], attentionClass = 'egc', inputSize = 224 } = options;
  checkInt('inputSize', inputSize, 32);
  if (classes.length < 1 || new Set(classes).size !== classes.length) throw new Error('classes must be distinct and non-empty');
  const camIndex = classes.indexOf(attentionClass);
  if (camIndex < 0) throw new Error(`attentionClass '${attentionClass}' is not one of the classes`);

  const net = new Net('gain_resnet50', seed);
  const g = net.g;
  const image = net.input('image', 3, inputSize, inputSize);

  // Stem: 7×7/2 conv, BN, ReLU, 3×3/2 max-pool.
  let x = net.convBnRelu(image, { out: 64, kernel: 7, stride: 2, pad: 3 });
  x = net.maxPool(x, 3, 2, 1);
  for (const stage of STAGES) {
    for (let b = 0; b < stage.blocks; b++) x = bottleneck(net, x, stage.width, b === 0 ? stage.stride : 1);
  }
  const features = x;

  const logits = net.linear(net.globalAvgPool(features), classes.length, 'logits');

  // Attention: the fc row of the attention class over the last feature map. The row and bias are
  // gathered from the fc initializers so that no weight is duplicated (and none double-counted).
  const index = g.int64s('cam_index', [camIndex]);
  const row = g.node('Gather', [logits.weight, index], { axis: 0 });
  const camWeight = g.node('Reshape', [row, g.int64s('cam_shape', [1, features.c, 1, 1])]);
  const camBias = g.node('Gather', [logits.bias, index], { axis: 0 });
  const attention = net.applyConv(
    features,
    { weight: camWeight, bias: camBias, cin: features.c, cout: 1, kernel: 1, groups: 1, sqNorm: new Float64Array(1), sqSum: new Float64Array(1) },
    {},
    'attention',
  );

  g.output('logits', [1, classes.length]);
  g.output('attention', [1, 1, attention.h, attention.w]);

  const params = g.paramCount;
  const macs = net.macs;
  const bytes = g.toBytes({ 'lumen.builder': 'gain-resnet50', 'lumen.seed': String(seed), 'lumen.clinical': 'false' });
  return {
    bytes,
    params,
    macs,
    draft: {
      id: 'gain-resnet50',
      version: '1.0.0',
      task: 'classify',
      description:
        'GAIN-ResNet-50 (torchvision ResNet-50 v1.5 with a class-activation attention map). Seeded ' +
        'initialisation for structure, cost and performance work only: NOT a trained model, never for clinical use.',
      clinical: false,
      input: imagenetInput('image', inputSize),
      outputs: [
        { name: 'logits', shape: [1, classes.length], meaning: 'class logits; softmax gives class probabilities', classes: [...classes] },
        {
          name: 'attention',
          shape: [1, 1, attention.h, attention.w],
          meaning:
            `class-activation map of '${attentionClass}' in logit units (fc row over the last feature map, plus bias), ` +
            'on the input image downscaled 32×; upsample to display',
        },
      ],
      thresholds: { suspicious: 0.5 },
      provenance: {
        builder: 'buildGainResNet50',
        architecture: 'torchvision resnet50 (v1.5) + GAIN class-activation attention',
        seed,
        params,
        macs,
        inputSize,
        init: 'Kaiming-normal fan_out convs, nn.Linear-uniform fc; BN running variance calibrated from the seeded weights',
        trained: false,
      },
    },
  };
}

/** torchvision Bottleneck: 1×1 → 3×3 (stride) → 1×1 ×4, with a 1×1 conv + BN shortcut when the shape changes. */
function bottleneck(net: Net, x: Feature, width: number, stride: number): Feature {
  const out = width * EXPANSION;
  let y = net.convBnRelu(x, { out: width, kernel: 1 });
  y = net.convBnRelu(y, { out: width, kernel: 3, stride });
  y = net.convBnRelu(y, { out, kernel: 1 }, false);
  const identity = stride !== 1 || x.c !== out ? net.convBnRelu(x, { out, kernel: 1, stride }, false) : x;
  return net.relu(net.add(y, identity));
}
