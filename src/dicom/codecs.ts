import { Context, NativeCodecs } from 'dcmjs-codecs';
import { Codec, findTransferSyntax } from './transfer-syntax';

/** dcmjs-codecs' WebAssembly codecs, initialised once per thread. */
let ready: Promise<void> | undefined;

export function initCodecs(): Promise<void> {
  ready ??= NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
  return ready;
}

export interface FrameGeometry {
  width: number;
  height: number;
  bitsAllocated: number;
  bitsStored: number;
  samplesPerPixel: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  photometricInterpretation: string;
}

type Decoder = (ctx: Context, params?: Record<string, unknown>) => Context;

/** Each codec of the transfer-syntax table (transfer-syntax.ts) and how dcmjs-codecs runs it. */
const DECODERS: Record<Codec, { decode: Decoder; params?: Record<string, unknown> }> = {
  jpeg: { decode: (c, p) => NativeCodecs.decodeJpeg(c, p) },
  'jpeg-ycbcr': { decode: (c, p) => NativeCodecs.decodeJpeg(c, p), params: { convertColorspaceToRgb: true } },
  'jpeg-ls': { decode: (c, p) => NativeCodecs.decodeJpegLs(c, p) },
  jpeg2000: { decode: (c, p) => NativeCodecs.decodeJpeg2000(c, p) },
  htj2k: { decode: (c, p) => NativeCodecs.decodeHtJpeg2000(c, p) },
  rle: { decode: (c, p) => NativeCodecs.decodeRle(c, p) },
};

function decoderFor(transferSyntaxUid: string): { decode: Decoder; params?: Record<string, unknown> } | undefined {
  const codec = findTransferSyntax(transferSyntaxUid)?.codec;
  return codec ? DECODERS[codec] : undefined;
}

export function canDecode(transferSyntaxUid: string): boolean {
  return decoderFor(transferSyntaxUid) !== undefined;
}

/** Decodes one compressed frame to native little-endian samples. initCodecs() must have resolved. */
export function decodeFrame(transferSyntaxUid: string, encoded: Buffer, g: FrameGeometry): Buffer {
  const d = decoderFor(transferSyntaxUid);
  if (!d) throw new Error(`no decoder for transfer syntax ${transferSyntaxUid}`);
  if (!NativeCodecs.isInitialized()) throw new Error('codecs are not initialised');
  const ctx = new Context({
    width: g.width,
    height: g.height,
    bitsAllocated: g.bitsAllocated,
    bitsStored: g.bitsStored,
    samplesPerPixel: g.samplesPerPixel,
    pixelRepresentation: g.pixelRepresentation,
    planarConfiguration: g.planarConfiguration,
    photometricInterpretation: g.photometricInterpretation,
    encodedBuffer: new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.length),
  });
  const out = d.decode(ctx, d.params ?? {}).getDecodedBuffer();
  if (!out) throw new Error('codec returned no pixels');
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}
