import { characterSets, decodeText, isSupportedCharacterSet } from '../dicom/charset';

/**
 * Series Description (LO, at most 64 characters) with the region label, in the object's own
 * character set. The label is ASCII, which every DICOM character set keeps in G0, so the
 * received bytes are kept as they are and the label added before or after them; when the
 * description must be shortened to make room, it is cut at a character boundary in its own
 * encoding. Where that cannot be done safely (ISO 2022 multi-byte text, a character set
 * bodyroute cannot decode) the description is left unchanged and the reason returned.
 */
export const LO_MAX = 64;

export type DescriptionEdit = { value: Buffer } | { unchanged: string };

/** Multi-byte character sets whose bytes are cut by decoding growing prefixes. */
const PREFIX_CUTTABLE = new Set(['ISO_IR_192', 'GB18030', 'GBK', 'ISO_IR_13']);

export function labelDescription(
  original: Buffer | undefined,
  specificCharacterSet: string | undefined,
  term: string,
  mode: 'append' | 'prefix',
): DescriptionEdit {
  const label = Buffer.from(`[${term}]`, 'latin1');
  const bytes = trimPadding(original ?? Buffer.alloc(0));
  if (!isSupportedCharacterSet(specificCharacterSet)) return { unchanged: `Specific Character Set "${specificCharacterSet}" is not one bodyroute can decode` };
  const text = decodeText(bytes, specificCharacterSet);
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (/[\\\x00-\x08\x0a-\x1a\x1c-\x1f]/.test(text)) return { unchanged: 'the description holds a backslash or control characters' };
  const already = mode === 'append' ? text.endsWith(`[${term}]`) : text.startsWith(`[${term}]`);
  if (already) return { value: bytes };
  if (bytes.length === 0) return { value: label };
  const room = LO_MAX - label.length - 1;
  let kept = bytes;
  if ([...text].length > room) {
    const cut = cutAtCharacter(bytes, specificCharacterSet, room);
    if (!cut) return { unchanged: 'the description is too long for the label and cannot be shortened safely in its character set' };
    kept = trimPadding(cut);
  }
  const space = Buffer.from(' ');
  return { value: mode === 'append' ? Buffer.concat([kept, space, label]) : Buffer.concat([label, space, kept]) };
}

/** The longest byte prefix holding at most `chars` whole characters; undefined where no safe cut exists. */
function cutAtCharacter(bytes: Buffer, charset: string | undefined, chars: number): Buffer | undefined {
  const sets = characterSets(charset);
  if (sets.some((s) => s.startsWith('ISO_2022_'))) return undefined; // a cut may leave a multi-byte set invoked
  if (!PREFIX_CUTTABLE.has(sets[0])) return bytes.subarray(0, chars); // single-byte: one byte a character
  const full = [...decodeText(bytes, charset)];
  for (let end = Math.min(bytes.length, chars * 4); end > 0; end--) {
    const part = [...decodeText(bytes.subarray(0, end), charset)];
    if (part.length <= chars && !part.includes('\ufffd') && part.every((c, i) => c === full[i])) return bytes.subarray(0, end);
  }
  return undefined;
}

function trimPadding(b: Buffer): Buffer {
  let end = b.length;
  while (end > 0 && (b[end - 1] === 0x20 || b[end - 1] === 0x00)) end--;
  let start = 0;
  while (start < end && b[start] === 0x20) start++;
  return b.subarray(start, end);
}
