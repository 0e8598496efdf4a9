/**
 * Every reason the quality gate can hold a frame back for: the one table a new reason is added
 * to. The reason type, the overlay's `gated` and `quality.hidden`, status `gated` counts (and the
 * `lumen_frames_gated_total` labels made from them), the feed generator's labels and the
 * calibration report's tints all derive from it. Order matters: a frame's reasons are listed in
 * it (`dark,bleeding`, never `bleeding,dark`).
 *
 * `region`: a cause that hides regions of the picture (regions.ts judges it per region; overlays
 * publish the share it hides). `tint`: how the calibration report paints such regions (RGB).
 * `meaning`: what it says about the frame, for people (docs/protocol.md lists the same).
 */
export const GATE_REASONS = {
  'no-picture': { region: false, tint: null, meaning: 'no active image area was found: the scope is out, or the source shows no picture' },
  dark: { region: true, tint: [40, 80, 255], meaning: 'most of the picture is in shadow, or the lamp is off' },
  overexposed: { region: true, tint: [255, 255, 0], meaning: 'most of the picture is blown out to white' },
  blurred: { region: false, tint: null, meaning: 'the picture is smeared by motion or focus' },
  bubbles: { region: true, tint: [0, 255, 255], meaning: 'most of the picture is under bubbles or froth' },
  bleeding: { region: true, tint: [255, 0, 160], meaning: 'most of the picture is under blood' },
} as const;

/** Reasons a frame is gated; published as they are. */
export type QualityReason = keyof typeof GATE_REASONS;

/** Reasons that hide regions of the picture (and have a share in an overlay's `quality.hidden`). */
export type RegionCause = { [K in QualityReason]: (typeof GATE_REASONS)[K]['region'] extends true ? K : never }[QualityReason];

/** Every reason, in the order they are listed. */
export const QUALITY_REASONS = Object.keys(GATE_REASONS) as readonly QualityReason[];

/** The region causes, in the same order. */
export const REGION_CAUSES = QUALITY_REASONS.filter((r): r is RegionCause => GATE_REASONS[r].region);

/** Reasons a frame of a recorded feed can be labelled ungradable for (annotations' `reason`): all but the ROI's. */
export type UngradableReason = Exclude<QualityReason, 'no-picture'>;
export const UNGRADABLE_REASONS = QUALITY_REASONS.filter((r): r is UngradableReason => r !== 'no-picture') as [UngradableReason, ...UngradableReason[]];

/**
 * A frame's reasons as the wire carries them (overlay `gated`, the keys of status `gated`): one
 * reason, or several joined by commas in table order (`dark,bleeding`). Made by joinReasons only.
 */
export type GatedReasons = string & { readonly __gatedReasons: true };

/** The wire form of a frame's reasons (at least one), in table order whatever order they come in. */
export function joinReasons(reasons: readonly QualityReason[]): GatedReasons {
  return QUALITY_REASONS.filter((r) => reasons.includes(r)).join(',') as GatedReasons;
}

/** The reasons in a wire `gated` value; names not in the table (a newer daemon's) are left out. */
export function splitReasons(gated: string): QualityReason[] {
  return gated.split(',').filter((r): r is QualityReason => Object.hasOwn(GATE_REASONS, r));
}
