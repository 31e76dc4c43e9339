import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFileMetaHeader } from '../../src/dicom/part10';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from '../../src/dicom/transfer-syntax';

/**
 * Builds small, realistic DICOM objects with known tags for tests and benchmarks:
 * a CT slice of an elliptical phantom with vendor private blocks.
 */

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';

export function newUid(): string {
  // 2.25 + a 128-bit random integer (PS3.5 B.2)
  return `2.25.${BigInt('0x' + randomBytes(16).toString('hex')).toString()}`;
}

export interface Element {
  tag: number;
  vr: string;
  value: Buffer;
}

const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

function pad(vr: string, b: Buffer): Buffer {
  if (b.length % 2 === 0) return b;
  return Buffer.concat([b, Buffer.from([vr === 'UI' || vr === 'OB' ? 0 : 0x20])]);
}

export const str = (tag: number, vr: string, s: string): Element => ({ tag, vr, value: pad(vr, Buffer.from(s, 'latin1')) });
export const us = (tag: number, ...v: number[]): Element => {
  const b = Buffer.alloc(2 * v.length);
  v.forEach((x, i) => b.writeUInt16LE(x, 2 * i));
  return { tag, vr: 'US', value: b };
};

export function encodeDataset(elements: Element[], explicitVr: boolean): Buffer {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  const parts: Buffer[] = [];
  for (const e of sorted) {
    const group = e.tag >>> 16;
    const el = e.tag & 0xffff;
    let head: Buffer;
    if (!explicitVr) {
      head = Buffer.alloc(8);
      head.writeUInt32LE(e.value.length, 4);
    } else if (LONG.has(e.vr)) {
      head = Buffer.alloc(12);
      head.write(e.vr, 4, 'latin1');
      head.writeUInt32LE(e.value.length, 8);
    } else {
      head = Buffer.alloc(8);
      head.write(e.vr, 4, 'latin1');
      head.writeUInt16LE(e.value.length, 6);
    }
    head.writeUInt16LE(group, 0);
    head.writeUInt16LE(el, 2);
    parts.push(head, e.value);
  }
  return Buffer.concat(parts);
}

export interface CtOptions {
  rows?: number;
  columns?: number;
  studyUid?: string;
  seriesUid?: string;
  sopInstanceUid?: string;
  instanceNumber?: number;
  /** z position in mm; shifts the phantom so slices differ. */
  z?: number;
  modality?: 'CT' | 'MR';
  seriesDescription?: string;
  studyDescription?: string;
  explicitVr?: boolean;
  privateTags?: boolean;
}

export interface SyntheticObject {
  bytes: Buffer;
  sopInstanceUid: string;
  studyUid: string;
  seriesUid: string;
  transferSyntaxUid: string;
}

/** An elliptical body with two "lungs", air outside, in HU stored as signed 16-bit with intercept -1024. */
function phantomPixels(rows: number, columns: number, z: number): Buffer {
  const px = Buffer.alloc(rows * columns * 2);
  const cx = columns / 2;
  const cy = rows / 2;
  const ax = columns * 0.4;
  const ay = rows * 0.28;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      const dx = (x - cx) / ax;
      const dy = (y - cy) / ay;
      let hu = -1000;
      if (dx * dx + dy * dy <= 1) {
        hu = 40 + ((x * 7 + y * 13 + z) % 23);
        const lx = (Math.abs(x - cx) - ax * 0.45) / (ax * 0.3);
        const ly = (y - cy) / (ay * 0.6);
        if (lx * lx + ly * ly <= 1) hu = -820 + ((x + y + z) % 40);
      }
      px.writeInt16LE(hu + 1024, 2 * (y * columns + x));
    }
  }
  return px;
}

export function syntheticImage(opts: CtOptions = {}): SyntheticObject {
  const rows = opts.rows ?? 512;
  const columns = opts.columns ?? 512;
  const modality = opts.modality ?? 'CT';
  const sopClass = modality === 'CT' ? CT_IMAGE_STORAGE : MR_IMAGE_STORAGE;
  const studyUid = opts.studyUid ?? newUid();
  const seriesUid = opts.seriesUid ?? newUid();
  const sopInstanceUid = opts.sopInstanceUid ?? newUid();
  const z = opts.z ?? 0;
  const explicitVr = opts.explicitVr ?? true;
  const t = (g: number, e: number) => ((g << 16) | e) >>> 0;
  const elements: Element[] = [
    str(t(0x0008, 0x0005), 'CS', 'ISO_IR 100'),
    str(t(0x0008, 0x0008), 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'),
    str(t(0x0008, 0x0016), 'UI', sopClass),
    str(t(0x0008, 0x0018), 'UI', sopInstanceUid),
    str(t(0x0008, 0x0020), 'DA', '20261127'),
    str(t(0x0008, 0x0030), 'TM', '101500'),
    str(t(0x0008, 0x0060), 'CS', modality),
    str(t(0x0008, 0x0070), 'LO', 'BODYROUTE TEST SCANNER'),
    str(t(0x0008, 0x1030), 'LO', opts.studyDescription ?? 'SYNTHETIC STUDY'),
    str(t(0x0008, 0x103e), 'LO', opts.seriesDescription ?? `${modality} SYNTHETIC`),
    str(t(0x0010, 0x0010), 'PN', 'TEST^PHANTOM'),
    str(t(0x0010, 0x0020), 'LO', 'PHANTOM-001'),
    str(t(0x0018, 0x0050), 'DS', '3'),
    str(t(0x0020, 0x000d), 'UI', studyUid),
    str(t(0x0020, 0x000e), 'UI', seriesUid),
    str(t(0x0020, 0x0013), 'IS', String(opts.instanceNumber ?? 1)),
    str(t(0x0020, 0x0032), 'DS', `-250\\-250\\${z}`),
    str(t(0x0020, 0x0037), 'DS', '1\\0\\0\\0\\1\\0'),
    us(t(0x0028, 0x0002), 1),
    str(t(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    us(t(0x0028, 0x0010), rows),
    us(t(0x0028, 0x0011), columns),
    str(t(0x0028, 0x0030), 'DS', '0.9765625\\0.9765625'),
    us(t(0x0028, 0x0100), 16),
    us(t(0x0028, 0x0101), 16),
    us(t(0x0028, 0x0102), 15),
    us(t(0x0028, 0x0103), 1),
    str(t(0x0028, 0x1050), 'DS', '40'),
    str(t(0x0028, 0x1051), 'DS', '400'),
    str(t(0x0028, 0x1052), 'DS', '-1024'),
    str(t(0x0028, 0x1053), 'DS', '1'),
    { tag: t(0x7fe0, 0x0010), vr: 'OW', value: phantomPixels(rows, columns, z) },
  ];
  if (modality === 'MR') {
    elements.push(
      str(t(0x0018, 0x0020), 'CS', 'SE'),
      str(t(0x0018, 0x0021), 'CS', 'NONE'),
      str(t(0x0018, 0x0022), 'CS', ''),
      str(t(0x0018, 0x0023), 'CS', '2D'),
    );
  }
  if (opts.privateTags) {
    elements.push(
      str(t(0x0009, 0x0010), 'LO', 'GEMS_IDEN_01'),
      str(t(0x0009, 0x1001), 'LO', 'VENDOR PRIVATE VALUE'),
      str(t(0x0029, 0x0010), 'LO', 'SIEMENS CSA HEADER'),
      { tag: t(0x0029, 0x1010), vr: 'OB', value: Buffer.from(`SV10\x04\x03\x02\x01${'x'.repeat(38)}\x00\x01\x02\x03`, 'latin1') },
    );
  }
  const transferSyntaxUid = explicitVr ? EXPLICIT_VR_LITTLE_ENDIAN : IMPLICIT_VR_LITTLE_ENDIAN;
  const header = buildFileMetaHeader({ sopClassUid: sopClass, sopInstanceUid, transferSyntaxUid });
  return { bytes: Buffer.concat([header, encodeDataset(elements, explicitVr)]), sopInstanceUid, studyUid, seriesUid, transferSyntaxUid };
}

export function writeSyntheticImage(path: string, opts: CtOptions = {}): SyntheticObject {
  const obj = syntheticImage(opts);
  writeFileSync(path, obj.bytes);
  return obj;
}

export interface RawImageOptions {
  rows: number;
  columns: number;
  frames?: number;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1;
  photometric?: string;
  modality?: string;
  sopClassUid?: string;
  /** Stored sample values, frame after frame (already including any high-bit garbage to test masking). */
  stored: number[];
  rescale?: { slope: number; intercept: number };
  pixelPaddingValue?: number;
  extra?: Element[];
  explicitVr?: boolean;
  bigEndian?: boolean;
}

/** A Part-10 image with exactly the pixel attributes given, for decoder tests. */
export function rawImage(o: RawImageOptions): { bytes: Buffer; sopInstanceUid: string } {
  const t = (g: number, e: number) => ((g << 16) | e) >>> 0;
  const ba = o.bitsAllocated ?? 16;
  const be = o.bigEndian ?? false;
  const u16 = (tagv: number, v: number, signed = false): Element => {
    const b = Buffer.alloc(2);
    if (signed) {
      if (be) b.writeInt16BE(v, 0);
      else b.writeInt16LE(v, 0);
    } else if (be) b.writeUInt16BE(v, 0);
    else b.writeUInt16LE(v, 0);
    return { tag: tagv, vr: signed ? 'SS' : 'US', value: b };
  };
  const px = Buffer.alloc(o.stored.length * (ba / 8));
  o.stored.forEach((v, i) => {
    if (ba === 8) px[i] = v & 0xff;
    else if (be) px.writeUInt16BE(v & 0xffff, 2 * i);
    else px.writeUInt16LE(v & 0xffff, 2 * i);
  });
  const sop = newUid();
  const sopClass = o.sopClassUid ?? CT_IMAGE_STORAGE;
  const els: Element[] = [
    str(t(0x0008, 0x0016), 'UI', sopClass),
    str(t(0x0008, 0x0018), 'UI', sop),
    str(t(0x0008, 0x0060), 'CS', o.modality ?? 'CT'),
    str(t(0x0020, 0x000d), 'UI', newUid()),
    str(t(0x0020, 0x000e), 'UI', newUid()),
    u16(t(0x0028, 0x0002), 1),
    str(t(0x0028, 0x0004), 'CS', o.photometric ?? 'MONOCHROME2'),
    u16(t(0x0028, 0x0010), o.rows),
    u16(t(0x0028, 0x0011), o.columns),
    u16(t(0x0028, 0x0100), ba),
    u16(t(0x0028, 0x0101), o.bitsStored ?? ba),
    u16(t(0x0028, 0x0102), (o.bitsStored ?? ba) - 1),
    u16(t(0x0028, 0x0103), o.pixelRepresentation ?? 0),
    { tag: t(0x7fe0, 0x0010), vr: ba === 8 ? 'OB' : 'OW', value: px.length % 2 ? Buffer.concat([px, Buffer.alloc(1)]) : px },
    ...(o.extra ?? []),
  ];
  if (o.frames && o.frames > 1) els.push(str(t(0x0028, 0x0008), 'IS', String(o.frames)));
  if (o.rescale) els.push(str(t(0x0028, 0x1052), 'DS', String(o.rescale.intercept)), str(t(0x0028, 0x1053), 'DS', String(o.rescale.slope)));
  if (o.pixelPaddingValue !== undefined) els.push(u16(t(0x0028, 0x0120), o.pixelPaddingValue, (o.pixelRepresentation ?? 0) === 1));
  const explicitVr = o.explicitVr ?? true;
  const ts = be ? '1.2.840.10008.1.2.2' : explicitVr ? EXPLICIT_VR_LITTLE_ENDIAN : IMPLICIT_VR_LITTLE_ENDIAN;
  let dataset = encodeDataset(els, explicitVr);
  if (be) dataset = toBigEndian(dataset, els);
  return { bytes: Buffer.concat([buildFileMetaHeader({ sopClassUid: sopClass, sopInstanceUid: sop, transferSyntaxUid: ts }), dataset]), sopInstanceUid: sop };
}

/** Re-encodes an explicit LE dataset's headers as big endian (values were written big endian already). */
function toBigEndian(le: Buffer, els: Element[]): Buffer {
  const out = Buffer.from(le);
  let pos = 0;
  for (const e of [...els].sort((a, b) => a.tag - b.tag)) {
    out.writeUInt16BE(e.tag >>> 16, pos);
    out.writeUInt16BE(e.tag & 0xffff, pos + 2);
    if (LONG.has(e.vr)) {
      out.writeUInt32BE(e.value.length, pos + 8);
      pos += 12;
    } else {
      out.writeUInt16BE(e.value.length, pos + 6);
      pos += 8;
    }
    pos += e.value.length;
  }
  return out;
}

/** `count` images of one series written into `dir` as img0000.dcm…, with each file's SOP Instance UID. */
export function writeSyntheticSeries(dir: string, count: number, opts: CtOptions = {}): { files: string[]; uidOf: Map<string, string> } {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const uidOf = new Map<string, string>();
  const seriesUid = newUid();
  for (let i = 0; i < count; i++) {
    const f = join(dir, `img${String(i).padStart(4, '0')}.dcm`);
    uidOf.set(f, writeSyntheticImage(f, { seriesUid, instanceNumber: i + 1, z: i, ...opts }).sopInstanceUid);
    files.push(f);
  }
  return { files, uidOf };
}
