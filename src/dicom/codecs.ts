import { Context, NativeCodecs } from 'dcmjs-codecs';

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

function decoderFor(transferSyntaxUid: string): { decode: Decoder; params?: Record<string, unknown> } | undefined {
  switch (transferSyntaxUid) {
    case '1.2.840.10008.1.2.4.50':
    case '1.2.840.10008.1.2.4.51':
      return { decode: (c, p) => NativeCodecs.decodeJpeg(c, p), params: { convertColorspaceToRgb: true } };
    case '1.2.840.10008.1.2.4.57':
    case '1.2.840.10008.1.2.4.70':
      return { decode: (c, p) => NativeCodecs.decodeJpeg(c, p) };
    case '1.2.840.10008.1.2.4.80':
    case '1.2.840.10008.1.2.4.81':
      return { decode: (c, p) => NativeCodecs.decodeJpegLs(c, p) };
    case '1.2.840.10008.1.2.4.90':
    case '1.2.840.10008.1.2.4.91':
    case '1.2.840.10008.1.2.4.92':
    case '1.2.840.10008.1.2.4.93':
      return { decode: (c, p) => NativeCodecs.decodeJpeg2000(c, p) };
    case '1.2.840.10008.1.2.4.201':
    case '1.2.840.10008.1.2.4.202':
    case '1.2.840.10008.1.2.4.203':
      return { decode: (c, p) => NativeCodecs.decodeHtJpeg2000(c, p) };
    case '1.2.840.10008.1.2.5':
      return { decode: (c, p) => NativeCodecs.decodeRle(c, p) };
    default:
      return undefined;
  }
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
