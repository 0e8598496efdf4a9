/**
 * Encoders the recorder drives, as GStreamer launch fragments. Each must turn one raw frame into
 * exactly one encoded access unit, in order, at once (no look-ahead, no B-frames, no dropped
 * frames): the binding's appsink gives no timestamp, so the recorder pairs access units with the
 * frames it pushed by order alone.
 */

/** An encoder the recorder can run (config record.encoder). */
export interface EncoderProfile {
  name: string;
  codec: 'vp8' | 'h264';
  /** Elements after the RGBA appsrc, ending in the encoded stream. */
  encode(o: { gop: number; kbps: number }): string;
  /** Caps of the encoded stream, for the appsrc of a file writer. */
  caps(size: { width: number; height: number }): string;
  /**
   * Elements between a writer's appsrc and the muxer. A pushed buffer carries no flags, so every
   * frame would look like a keyframe to the muxer (and seeking would land on delta frames): a
   * parser (or, for VP8, which has none in plugins-good, a payload round trip) reads the frame
   * headers and marks the delta frames again.
   */
  reparse: string;
  isKeyframe(au: Uint8Array): boolean;
}

// VP8 from libvpx in gstreamer1.0-plugins-good: royalty-free, nothing to install beyond what
// capture needs. Realtime deadline, one thread (the models need the cores), no lag, CBR.
const vp8: EncoderProfile = {
  name: 'vp8',
  codec: 'vp8',
  encode: ({ gop, kbps }) =>
    `videoconvert ! video/x-raw,format=I420 ! vp8enc deadline=1 cpu-used=8 threads=1 lag-in-frames=0 dropframe-threshold=0 auto-alt-ref=false keyframe-max-dist=${gop} end-usage=cbr target-bitrate=${kbps * 1000}`,
  caps: ({ width, height }) => `video/x-vp8,width=${width},height=${height},framerate=0/1`,
  reparse: 'rtpvp8pay mtu=65000 ! rtpvp8depay',
  isKeyframe: vp8Keyframe,
};

const H264_CAPS = 'video/x-h264,stream-format=byte-stream,alignment=au';

// x264 (gstreamer1.0-plugins-ugly; h264parse is in -bad): zero latency, no B-frames.
const x264: EncoderProfile = {
  name: 'x264',
  codec: 'h264',
  encode: ({ gop, kbps }) =>
    `videoconvert ! video/x-raw,format=I420 ! x264enc tune=zerolatency speed-preset=ultrafast bframes=0 key-int-max=${gop} bitrate=${kbps} threads=1 ! h264parse config-interval=-1 ! ${H264_CAPS}`,
  caps: () => H264_CAPS,
  reparse: 'h264parse',
  isKeyframe: h264Keyframe,
};

// The Jetson's hardware encoder: the VIC converts into NVMM, NVENC encodes; IDR every GOP.
const jetson: EncoderProfile = {
  name: 'jetson-h264',
  codec: 'h264',
  encode: ({ gop, kbps }) =>
    `nvvidconv ! video/x-raw(memory:NVMM),format=I420 ! nvv4l2h264enc control-rate=1 bitrate=${kbps * 1000} iframeinterval=${gop} idrinterval=${gop} insert-sps-pps=true maxperf-enable=true ! h264parse config-interval=-1 ! ${H264_CAPS}`,
  caps: () => H264_CAPS,
  reparse: 'h264parse',
  isKeyframe: h264Keyframe,
};

export const PROFILES: Record<'vp8' | 'x264' | 'jetson-h264', EncoderProfile> = { vp8, x264, 'jetson-h264': jetson };

/** VP8 (RFC 6386 §9.1): bit 0 of the frame tag is 0 on a keyframe. */
export function vp8Keyframe(au: Uint8Array): boolean {
  return au.length > 0 && (au[0] & 1) === 0;
}

/** H.264 Annex B: the access unit holds an IDR slice (NAL unit type 5). */
export function h264Keyframe(au: Uint8Array): boolean {
  for (let i = 0; i + 3 < au.length; i++) {
    // A start code is 00 00 01 (a 4-byte one ends the same way).
    if (au[i] !== 0 || au[i + 1] !== 0 || au[i + 2] !== 1) continue;
    const type = au[i + 3] & 0x1f;
    if (type === 5) return true;
    // A non-IDR slice: the access unit is not a keyframe (parameter sets come before slices).
    if (type === 1) return false;
    i += 2;
  }
  return false;
}
