/**
 * Text of string elements decoded as (0008,0005) Specific Character Set says (PS3.3 C.12.1.1.2,
 * PS3.5 §6.1), with Node's TextDecoder. Single-byte and multi-byte sets without code
 * extensions decode the whole value with one decoder; ISO 2022 sets switch decoders at each
 * escape sequence.
 */
import { TextDecoder } from 'node:util';

/** Defined terms without code extensions → WHATWG encoding label. */
const SINGLE: Record<string, string> = {
  '': 'latin1', // the default repertoire is ASCII; Latin-1 keeps stray high bytes readable
  ISO_IR_6: 'latin1',
  ISO_IR_100: 'latin1',
  ISO_IR_101: 'iso-8859-2',
  ISO_IR_109: 'iso-8859-3',
  ISO_IR_110: 'iso-8859-4',
  ISO_IR_144: 'iso-8859-5',
  ISO_IR_127: 'iso-8859-6',
  ISO_IR_126: 'iso-8859-7',
  ISO_IR_138: 'iso-8859-8',
  ISO_IR_148: 'iso-8859-9',
  ISO_IR_203: 'iso-8859-15',
  ISO_IR_166: 'windows-874',
  ISO_IR_13: 'shift_jis',
  ISO_IR_192: 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

/** ISO 2022 escape sequences (as text after ESC) → the decoder for the bytes that follow. */
const ESCAPES: Record<string, string> = {
  '(B': 'latin1', // ASCII in G0
  '(J': 'latin1', // JIS X 0201 Romaji (ASCII but yen/overline)
  ')I': 'shift_jis', // JIS X 0201 Katakana in G1: single bytes 0xA1–0xDF, as in Shift_JIS
  $B: 'iso-2022-jp', // JIS X 0208 in G0 (decoded with its escape kept)
  '$@': 'iso-2022-jp',
  '$)C': 'euc-kr', // KS X 1001 in G1
  '$)A': 'gbk', // GB 2312 in G1
  '-A': 'latin1',
  '-B': 'iso-8859-2',
  '-C': 'iso-8859-3',
  '-D': 'iso-8859-4',
  '-L': 'iso-8859-5',
  '-G': 'iso-8859-6',
  '-F': 'iso-8859-7',
  '-H': 'iso-8859-8',
  '-M': 'iso-8859-9',
  '-T': 'windows-874',
};

const decoders = new Map<string, TextDecoder>();
function decoder(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) {
    d = new TextDecoder(label);
    decoders.set(label, d);
  }
  return d;
}

/** The normalised defined terms of a Specific Character Set value (backslash-separated). */
export function characterSets(value: string | undefined): string[] {
  return (value ?? '').split('\\').map((s) => s.trim().toUpperCase().replace(/[ -]/g, '_'));
}

/** True when bodyroute can decode text in this Specific Character Set. */
export function isSupportedCharacterSet(value: string | undefined): boolean {
  return characterSets(value).every((t) => t in SINGLE || t.startsWith('ISO_2022_'));
}

/** Decodes a string element's value; trailing padding (space, NUL) removed. */
export function decodeText(bytes: Buffer, specificCharacterSet: string | undefined): string {
  const sets = characterSets(specificCharacterSet);
  const extended = sets.some((t) => t.startsWith('ISO_2022_'));
  const text = extended ? decodeIso2022(bytes, sets[0]) : decoder(SINGLE[sets[0]] ?? 'latin1').decode(bytes);
  return text.replace(/[\0 ]+$/, '');
}

function decodeIso2022(bytes: Buffer, first: string): string {
  // the first value sets the initial G0/G1 (e.g. ISO 2022 IR 100 starts in Latin-1)
  const initial = SINGLE[first.replace('ISO_2022_', 'ISO_')] ?? 'latin1';
  let current = initial;
  let out = '';
  let start = 0;
  let escapeText = '';
  const flush = (end: number) => {
    if (end <= start) return;
    const part = bytes.subarray(start, end);
    out +=
      current === 'iso-2022-jp' ? decoder(current).decode(Buffer.concat([Buffer.from(`\x1b${escapeText}`, 'latin1'), part])) : decoder(current).decode(part);
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x1b) {
      flush(i);
      let j = i + 1;
      while (j < bytes.length && j - i <= 3 && !(bytes[j] >= 0x40 && bytes[j] <= 0x7e && j > i + 1)) j++;
      escapeText = bytes.subarray(i + 1, j + 1).toString('latin1');
      current = ESCAPES[escapeText] ?? current;
      i = j;
      start = j + 1;
    } else if (b === 0x0d || b === 0x0a || b === 0x09 || b === 0x0c || b === 0x5c) {
      // delimiters and control characters return G0 to ASCII (PS3.5 §6.1.2.5.3) unless a single-byte set was chosen
      flush(i + 1);
      start = i + 1;
      if (current === 'iso-2022-jp') current = initial;
    }
  }
  flush(bytes.length);
  return out;
}
