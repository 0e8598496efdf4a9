import { checkInt, imagenetInput, Net, type BuiltModel, type Feature } from './layers.js';

export interface CaUnetOptions {
  /** Weight-init seed, an integer in 0 … 2³²−1. */
  seed: number;
  /** Channels of the first level; level i has baseWidth·2^i, the bottleneck baseWidth·2^depth. Default 32. */
  baseWidth?: number;
  /** Square input side in pixels, a multiple of 2^depth; default 256. */
  inputSize?: number;
  /** Number of down-sampling levels; default 4 (bottleneck at inputSize/16). */
  depth?: number;
  /** ASPP dilation rates; default DeepLabv3's 6/12/18 scaled to the bottleneck side (see below). */
  asppRates?: readonly number[];
}

/** Output classes of the segmenter, in channel order. */
export const CA_UNET_CLASSES = ['background', 'lesion'] as const;

/**
 * CA-U-Net: a U-Net (double 3×3 conv + BN + ReLU per level, 2×2 max-pool down, 2×2/2 transposed
 * conv up, skip concatenation) with a CBAM block after every encoder and decoder level and an ASPP
 * block at the bottleneck. Input `image` [1, 3, S, S]; output `logits` [1, 2, S, S]
 * (background, lesion).
 *
 * Default width 32 (not the original U-Net's 64): a quarter of the cost (12.0 G instead of 48.0 G
 * MACs at 256×256; 7.7 M instead of 30.6 M parameters) for an appliance that must also run
 * ResNet-50 at video rate; the paper does not state its width.
 */
export function buildCaUnet(options: CaUnetOptions): BuiltModel {
  const { seed, baseWidth = 32, inputSize = 256, depth = 4 } = options;
  checkInt('baseWidth', baseWidth, 1);
  checkInt('depth', depth, 1);
  checkInt('inputSize', inputSize, 2 ** depth);
  if (inputSize % 2 ** depth !== 0) throw new RangeError(`inputSize ${inputSize} is not a multiple of 2^depth = ${2 ** depth}`);
  const bottleneckSide = inputSize / 2 ** depth;
  const rates = options.asppRates ?? defaultAsppRates(bottleneckSide);
  rates.forEach((r) => checkInt('asppRates[]', r, 1));

  const net = new Net('ca_unet', seed);
  let x = net.input('image', 3, inputSize, inputSize);
  const skips: Feature[] = [];
  for (let level = 0; level < depth; level++) {
    x = cbam(net, doubleConv(net, x, baseWidth * 2 ** level));
    skips.push(x);
    x = net.maxPool(x, 2, 2);
  }
  const bottleneckWidth = baseWidth * 2 ** depth;
  x = net.convBnRelu(x, { out: bottleneckWidth, kernel: 3 });
  x = aspp(net, x, bottleneckWidth, rates);
  for (let level = depth - 1; level >= 0; level--) {
    const width = baseWidth * 2 ** level;
    const up = net.convTranspose(x, { out: width, kernel: 2, stride: 2 });
    x = cbam(net, doubleConv(net, net.concat([skips[level], up]), width));
  }
  const logits = net.conv(x, { out: CA_UNET_CLASSES.length, kernel: 1, bias: true, fan: 'in', gain: 1 }, 'logits');
  net.g.output('logits', [1, logits.c, logits.h, logits.w]);

  const params = net.g.paramCount;
  const macs = net.macs;
  const bytes = net.g.toBytes({ 'lumen.builder': 'ca-unet', 'lumen.seed': String(seed), 'lumen.clinical': 'false' });
  return {
    bytes,
    params,
    macs,
    draft: {
      id: 'ca-unet',
      version: '1.0.0',
      task: 'segment',
      description:
        'CA-U-Net (U-Net with CBAM attention and an ASPP bottleneck). Seeded initialisation for structure, ' +
        'cost and performance work only: NOT a trained model, never for clinical use.',
      clinical: false,
      input: imagenetInput('image', inputSize),
      outputs: [
        {
          name: 'logits',
          shape: [1, CA_UNET_CLASSES.length, inputSize, inputSize],
          meaning: 'per-pixel class logits at input resolution; softmax over axis 1 gives the lesion probability',
          classes: [...CA_UNET_CLASSES],
        },
      ],
      thresholds: { lesion: 0.5 },
      provenance: {
        builder: 'buildCaUnet',
        architecture: 'U-Net + CBAM (after each encoder/decoder level) + ASPP (bottleneck)',
        seed,
        params,
        macs,
        inputSize,
        baseWidth,
        depth,
        asppRates: [...rates],
        init: 'Kaiming-normal convs; BN running variance calibrated from the seeded weights',
        trained: false,
      },
    },
  };
}

/**
 * DeepLabv3 uses rates 6/12/18 on a 33×33 feature map (513-pixel crop at output stride 16); the
 * rates are scaled by side/33 so that the widest atrous conv still sees mostly real pixels rather
 * than padding (at side 16: 3/6/9).
 */
export function defaultAsppRates(side: number): number[] {
  return [6, 12, 18].map((r) => Math.max(1, Math.round((r * side) / 33)));
}

/** Two 3×3 conv + BN + ReLU. */
export function doubleConv(net: Net, x: Feature, width: number): Feature {
  return net.convBnRelu(net.convBnRelu(x, { out: width, kernel: 3 }), { out: width, kernel: 3 });
}

/**
 * CBAM (Woo et al. 2018). Channel attention: global average- and max-pooled descriptors through
 * one shared MLP (1×1 convs C → h → C, h = C/16 but at least min(C, 8)), added, sigmoid, multiply.
 * Spatial attention: channel-wise mean and max, concatenated, 7×7 conv (pad 3), sigmoid, multiply.
 */
export function cbam(net: Net, x: Feature): Feature {
  const hidden = Math.max(Math.floor(x.c / 16), Math.min(x.c, 8));
  const fc1 = net.convWeights(x.c, { out: hidden, kernel: 1, fan: 'in' });
  const fc2 = net.convWeights(hidden, { out: x.c, kernel: 1, fan: 'in', gain: 1 });
  const mlp = (d: Feature): Feature => net.applyConv(net.relu(net.applyConv(d, fc1)), fc2);
  const channelGate = net.sigmoid(net.add(mlp(net.globalAvgPool(x)), mlp(net.globalMaxPool(x))));
  const y = net.gate(x, channelGate);
  const descriptor = net.concat([net.channelMean(y), net.channelMax(y)]);
  const spatialGate = net.sigmoid(net.conv(descriptor, { out: 1, kernel: 7, pad: 3, fan: 'in', gain: 1 }));
  return net.gate(y, spatialGate);
}

/**
 * ASPP (DeepLabv3): parallel 1×1 conv, 3×3 atrous convs at `rates`, and image pooling (global
 * average pool → 1×1 conv → broadcast back), each with BN + ReLU and width/4 channels,
 * concatenated and projected by a 1×1 conv + BN + ReLU to `width`.
 */
export function aspp(net: Net, x: Feature, width: number, rates: readonly number[]): Feature {
  const branch = Math.max(1, Math.floor(width / 4));
  const branches = [net.convBnRelu(x, { out: branch, kernel: 1 })];
  for (const r of rates) branches.push(net.convBnRelu(x, { out: branch, kernel: 3, dilation: r, pad: r }));
  const pooled = net.convBnRelu(net.globalAvgPool(x), { out: branch, kernel: 1 });
  branches.push(net.expand(pooled, x.h, x.w));
  return net.convBnRelu(net.concat(branches), { out: width, kernel: 1 });
}
