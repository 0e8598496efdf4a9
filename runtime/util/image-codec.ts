/**
 * The one file that imports sharp (libvips): PNG/JPEG encoding and image decoding. sharp is
 * loaded on first use, so a command that never touches an image (`lumen watch` without
 * --save-overlays, `lumen keys`) never loads libvips.
 */
type Sharp = (typeof import('sharp'))['default'];

let loading: Promise<Sharp> | undefined;

function sharpLib(): Promise<Sharp> {
  return (loading ??= import('sharp').then(({ default: sharp }) => {
    // One libvips thread per call: the daemon encodes one overlay at a time and the cores are
    // needed by ONNX Runtime and GStreamer.
    sharp.concurrency(1);
    return sharp;
  }));
}

export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** RGBA → PNG with alpha. Level 1 deflate: overlays are mostly transparent, speed matters more. */
export async function encodePng(img: RgbaImage): Promise<Buffer> {
  const sharp = await sharpLib();
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } })
    .png({ compressionLevel: 1, adaptiveFiltering: false })
    .toBuffer();
}

/** RGBA → JPEG (alpha dropped), optionally scaled to `width`. */
export async function encodeJpeg(img: RgbaImage, quality = 75, width?: number): Promise<Buffer> {
  const sharp = await sharpLib();
  let s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } }).removeAlpha();
  if (width && width < img.width) s = s.resize({ width });
  return s.jpeg({ quality }).toBuffer();
}

/** Any image file or buffer sharp reads (PNG, JPEG, …) → RGBA. */
export async function decodeImage(input: string | Buffer): Promise<RgbaImage> {
  const sharp = await sharpLib();
  const { data, info } = await sharp(input).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Width and height from an image file's header, without decoding its pixels. */
export async function imageSize(input: string): Promise<{ width: number; height: number }> {
  const sharp = await sharpLib();
  const m = await sharp(input).metadata();
  if (!m.width || !m.height) throw new Error('no width or height in the image header');
  return { width: m.width, height: m.height };
}
