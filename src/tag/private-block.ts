import { ElementReader, Encoding, stringValue, UNDEFINED_LENGTH } from '../dicom/element-reader';
import { tag } from '../dicom/tags';

/**
 * PS3.5 §7.8.1 private block reservation: private creator elements (gggg,0010–00FF) each
 * reserve the block (gggg,xx00–xxFF). bodyroute reuses the block whose creator is its own
 * string, else takes the first slot with no creator and no data elements, and never
 * touches another vendor's creator or elements.
 */
export interface BlockChoice {
  /** The xx of (gggg,xxee). */
  block: number;
  /** True when the creator element must be written (the block is new). */
  reserve: boolean;
}

export function choosePrivateBlock(data: Buffer, enc: Encoding, group: number, creator: string): BlockChoice {
  if (group % 2 !== 1 || group <= 0x0008 || group === 0xffff) throw new Error(`private group must be odd and above 0008 (got ${group.toString(16)})`);
  const reader = new ElementReader(data, enc);
  const creators = new Map<number, string>();
  const usedBlocks = new Set<number>();
  for (const el of reader.elements()) {
    if (el.tag >>> 16 < group) continue;
    if (el.tag >>> 16 > group) break;
    const e = el.tag & 0xffff;
    if (e >= 0x0010 && e <= 0x00ff) creators.set(e, el.length === UNDEFINED_LENGTH ? '' : stringValue(reader.valueBytes(el)).trim());
    else if (e >= 0x1000) usedBlocks.add(e >> 8);
  }
  for (const [block, name] of creators) if (name === creator) return { block, reserve: false };
  for (let block = 0x10; block <= 0xff; block++) {
    if (!creators.has(block) && !usedBlocks.has(block)) return { block, reserve: true };
  }
  throw new Error(`no free private block in group ${group.toString(16).padStart(4, '0')}`);
}

export function creatorTag(group: number, block: number): number {
  return tag(group, block);
}

export function blockTag(group: number, block: number, offset: number): number {
  return tag(group, (block << 8) | offset);
}
