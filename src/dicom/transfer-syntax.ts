/** Transfer syntaxes bodyroute accepts and how their bytes are laid out. */
export interface TransferSyntax {
  uid: string;
  name: string;
  explicitVr: boolean;
  littleEndian: boolean;
  /** Pixel data is encapsulated (fragments), i.e. compressed. */
  encapsulated: boolean;
  /** The whole dataset is deflated (RFC 1951) after the file meta. */
  deflated: boolean;
  /** Which of dcmjs-codecs' decoders reads its frames (codecs.ts); absent: bodyroute cannot decode it. */
  codec?: Codec;
  /**
   * How the decoder lays out colour samples: `interleaved` (RGBRGB…, whatever Planar Configuration
   * says), `planar` (RRR…GGG…BBB…, as RLE segments are), absent: as Planar Configuration says.
   */
  decodedColour?: 'interleaved' | 'planar';
}

/** dcmjs-codecs' decoders; `jpeg-ycbcr` converts YCbCr to RGB on the way (JPEG baseline/extended). */
export type Codec = 'jpeg' | 'jpeg-ycbcr' | 'jpeg-ls' | 'jpeg2000' | 'htj2k' | 'rle';

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

function ts(uid: string, name: string, opts: Partial<TransferSyntax> = {}): TransferSyntax {
  return { uid, name, explicitVr: true, littleEndian: true, encapsulated: true, deflated: false, ...opts };
}

const TABLE: TransferSyntax[] = [
  ts(IMPLICIT_VR_LITTLE_ENDIAN, 'Implicit VR Little Endian', { explicitVr: false, encapsulated: false }),
  ts(EXPLICIT_VR_LITTLE_ENDIAN, 'Explicit VR Little Endian', { encapsulated: false }),
  ts(DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, 'Deflated Explicit VR Little Endian', { encapsulated: false, deflated: true }),
  ts(EXPLICIT_VR_BIG_ENDIAN, 'Explicit VR Big Endian', { littleEndian: false, encapsulated: false }),
  ts('1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', { codec: 'jpeg-ycbcr', decodedColour: 'interleaved' }),
  ts('1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)', { codec: 'jpeg-ycbcr', decodedColour: 'interleaved' }),
  ts('1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)', { codec: 'jpeg' }),
  ts('1.2.840.10008.1.2.4.70', 'JPEG Lossless, First-Order Prediction (Process 14 SV1)', { codec: 'jpeg' }),
  ts('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', { codec: 'jpeg-ls' }),
  ts('1.2.840.10008.1.2.4.81', 'JPEG-LS Near-Lossless', { codec: 'jpeg-ls' }),
  ts('1.2.840.10008.1.2.4.90', 'JPEG 2000 Lossless Only', { codec: 'jpeg2000' }),
  ts('1.2.840.10008.1.2.4.91', 'JPEG 2000', { codec: 'jpeg2000' }),
  ts('1.2.840.10008.1.2.4.92', 'JPEG 2000 Part 2 Multi-component Lossless Only', { codec: 'jpeg2000' }),
  ts('1.2.840.10008.1.2.4.93', 'JPEG 2000 Part 2 Multi-component', { codec: 'jpeg2000' }),
  ts('1.2.840.10008.1.2.4.201', 'HTJ2K Lossless', { codec: 'htj2k' }),
  ts('1.2.840.10008.1.2.4.202', 'HTJ2K Lossless RPCL', { codec: 'htj2k' }),
  ts('1.2.840.10008.1.2.4.203', 'HTJ2K', { codec: 'htj2k' }),
  ts('1.2.840.10008.1.2.5', 'RLE Lossless', { codec: 'rle', decodedColour: 'planar' }),
  ts('1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile @ Main Level'),
  ts('1.2.840.10008.1.2.4.101', 'MPEG2 Main Profile @ High Level'),
  ts('1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile'),
  ts('1.2.840.10008.1.2.4.103', 'MPEG-4 AVC/H.264 BD-compatible High Profile'),
  ts('1.2.840.10008.1.2.4.104', 'MPEG-4 AVC/H.264 High Profile For 2D Video'),
  ts('1.2.840.10008.1.2.4.105', 'MPEG-4 AVC/H.264 High Profile For 3D Video'),
  ts('1.2.840.10008.1.2.4.106', 'MPEG-4 AVC/H.264 Stereo High Profile'),
  ts('1.2.840.10008.1.2.4.107', 'HEVC/H.265 Main Profile'),
  ts('1.2.840.10008.1.2.4.108', 'HEVC/H.265 Main 10 Profile'),
];

const BY_UID = new Map(TABLE.map((t) => [t.uid, t]));

export function findTransferSyntax(uid: string): TransferSyntax | undefined {
  return BY_UID.get(uid);
}

export function isSupportedTransferSyntax(uid: string): boolean {
  return BY_UID.has(uid);
}
