/**
 * JPEG 2000 decoded at a reduced resolution level: the one thing dcmjs-codecs cannot do (its decoder
 * parameters have no resolution factor). OpenJPEG's WebAssembly build from @cornerstonejs/codec-openjpeg
 * stops the inverse wavelet transform early, so a 512×512 frame wanted at 128 px costs about a tenth of
 * a full decode. Used by classification only; forwarding never decodes.
 */

interface FrameSize {
  width: number;
  height: number;
}

/** The part of the package's embind API used here (it ships no types). */
interface J2KDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  calculateSizeAtDecompositionLevel(level: number): FrameSize;
  decodeSubResolution(level: number, layer: number): void;
}

interface OpenJpegModule {
  J2KDecoder: new () => J2KDecoder;
}

type ModuleFactory = (overrides: { print: (s: string) => void; printErr: (s: string) => void }) => Promise<OpenJpegModule>;

let loading: Promise<void> | undefined;
/** One decoder per thread, made once the module has loaded. */
let decoder: J2KDecoder | undefined;

/** Loads the WebAssembly module (once per thread); until it resolves, reduced decoding is unavailable. */
export function initReducedJpeg2000(): Promise<void> {
  loading ??= (async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the package's entry for Node is a CommonJS factory
    const factory = require('@cornerstonejs/codec-openjpeg/decodewasmjs') as ModuleFactory;
    // OpenJPEG reports every header it reads on stdout: silenced (errors come back as exceptions)
    const m = await factory({ print: () => undefined, printErr: () => undefined });
    decoder = new m.J2KDecoder();
  })();
  return loading;
}

export function reducedJpeg2000Ready(): boolean {
  return decoder !== undefined;
}

/**
 * The deepest level whose frame still covers `size` pixels on its longer side, so that the area
 * resize that follows only ever shrinks: 512 → level 2 (128) for size 128, 256 → level 1, 100 → 0.
 */
export function reductionLevel(rows: number, columns: number, size: number): number {
  let level = 0;
  while (Math.ceil(Math.max(rows, columns) / 2 ** (level + 1)) >= size) level++;
  return level;
}

export interface ReducedFrame {
  rows: number;
  columns: number;
  level: number;
  /** Little-endian samples, as a full decode would give them, at the reduced size. */
  samples: Buffer;
}

/**
 * How many wavelet decompositions a JPEG 2000 codestream has (COD, or a smaller COC for a component):
 * the deepest level it can be decoded at. Undefined when the bytes are not a bare codestream (a JP2 file,
 * say) or the main header cannot be read. The decoder reports this only after a decode.
 */
export function codestreamDecompositions(cs: Buffer): number | undefined {
  if (cs.length < 4 || cs.readUInt16BE(0) !== 0xff4f) return undefined; // SOC
  let levels: number | undefined;
  let at = 2;
  while (at + 4 <= cs.length) {
    const marker = cs.readUInt16BE(at);
    if (marker === 0xff90 || marker === 0xff93) break; // SOT, SOD: the main header is over
    const length = cs.readUInt16BE(at + 2);
    if ((marker & 0xff00) !== 0xff00 || length < 2) return undefined;
    if (marker === 0xff52 && at + 9 < cs.length) {
      // COD: Lcod, Scod, SGcod (progression 1, layers 2, MCT 1), then SPcod's decomposition levels
      levels = Math.min(levels ?? 255, cs[at + 9]);
    } else if (marker === 0xff53 && at + 6 < cs.length) {
      // COC: Lcoc, Ccoc (1 byte for fewer than 257 components, as here), Scoc, then SPcoc's levels
      levels = Math.min(levels ?? 255, cs[at + 6]);
    }
    at += 2 + length;
  }
  return levels;
}

/**
 * Decodes one grayscale JPEG 2000 codestream at `level`, or at the deepest level the codestream has if
 * that is less; undefined when it has none (or cannot say), for the caller to decode it in full. The
 * result is a copy: the decoder's buffer is reused by the next call.
 */
export function decodeJpeg2000Reduced(encoded: Buffer, level: number, bytesPerSample: number): ReducedFrame | undefined {
  const d = decoder;
  if (!d) throw new Error('the reduced-resolution JPEG 2000 decoder is not initialised');
  const used = Math.min(level, codestreamDecompositions(encoded) ?? 0);
  if (used <= 0) return undefined;
  d.getEncodedBuffer(encoded.length).set(encoded);
  d.decodeSubResolution(used, 0);
  const size = d.calculateSizeAtDecompositionLevel(used);
  const out = d.getDecodedBuffer();
  const expected = size.width * size.height * bytesPerSample;
  if (size.width === 0 || out.length < expected) throw new Error(`decoded ${out.length} bytes at level ${used}, expected ${expected}`);
  return { rows: size.height, columns: size.width, level: used, samples: Buffer.from(out.subarray(0, expected)) };
}
