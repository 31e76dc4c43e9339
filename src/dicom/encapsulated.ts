import { ElementHeader, Encoding, sequenceItems, UNDEFINED_LENGTH } from './element-reader';

/** A fragment of encapsulated pixel data: [start, end) of its bytes in the dataset. */
export interface Fragment {
  start: number;
  end: number;
}

/**
 * The fragments of each frame of encapsulated Pixel Data (PS3.5 A.4): by the Basic Offset Table
 * when it has one entry per frame, else one fragment per frame, else (one frame) all fragments.
 * Throws when the frame boundaries cannot be known.
 */
export function frameFragments(data: Buffer, enc: Encoding, pixelData: ElementHeader, numberOfFrames: number): Fragment[][] {
  if (pixelData.length !== UNDEFINED_LENGTH) throw new Error('compressed pixel data must have undefined length');
  // the items of the pixel data element; the first is the Basic Offset Table
  const [offsetTable, ...frags] = sequenceItems(data, pixelData, enc);
  if (!offsetTable || frags.length === 0) throw new Error('encapsulated pixel data without fragments');
  if (numberOfFrames === 1) return [frags];
  const botLength = offsetTable.end - offsetTable.start;
  if (botLength >= 4 * numberOfFrames) {
    const u32 = (at: number) => (enc.littleEndian ? data.readUInt32LE(at) : data.readUInt32BE(at));
    const firstItem = frags[0].start - 8;
    const begins = Array.from({ length: numberOfFrames }, (_, i) => firstItem + u32(offsetTable.start + 4 * i));
    return begins.map((begin, i) => {
      const end = i + 1 < begins.length ? begins[i + 1] : pixelData.end;
      return frags.filter((f) => f.start - 8 >= begin && f.end <= end);
    });
  }
  if (frags.length === numberOfFrames) return frags.map((f) => [f]);
  throw new Error(`cannot find the frame boundaries: no offset table and ${frags.length} fragments for ${numberOfFrames} frames`);
}

/** The compressed bytes of one frame. */
export function frameBytes(data: Buffer, fragments: Fragment[]): Buffer {
  return fragments.length === 1 ? data.subarray(fragments[0].start, fragments[0].end) : Buffer.concat(fragments.map((f) => data.subarray(f.start, f.end)));
}
