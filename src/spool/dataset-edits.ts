import { promises as fsp } from 'node:fs';
import { SplicePart, splicedLength } from '../dicom/splice';

/**
 * bodyroute's changes to a spooled dataset (tagging), kept as a list of parts instead of a rewritten
 * copy: the file keeps the bytes as received, and whoever sends or writes the object reads it through a
 * DatasetReader, which splices the parts together. They are made durable in the delivery journal's
 * enqueue line of the object (dispatch/delivery-journal.ts), which is fsync'd before the object is
 * promoted anyway; earlier bodyroute versions wrote them beside the file as <id>.edits, still read here.
 */
export interface DatasetEdits {
  parts: SplicePart[];
  /** Length of the edited dataset. */
  datasetBytes: number;
}

interface EditsDocument {
  version: 1;
  datasetBytes: number;
  parts: ({ copy: [number, number] } | { bytes: string })[];
}

/** The edits file an earlier version wrote beside a spooled file (same folder, same id). */
export function editsPathFor(path: string): string {
  return path.replace(/\.dcm$/, '.edits');
}

export function editsFromParts(parts: SplicePart[]): DatasetEdits {
  return { parts, datasetBytes: splicedLength(parts) };
}

/** The edits as one line of JSON without spaces or newlines (a journal line's tail, or an edits file). */
export function encodeEdits(edits: DatasetEdits): string {
  const doc: EditsDocument = {
    version: 1,
    datasetBytes: edits.datasetBytes,
    parts: edits.parts.map((p) => ('bytes' in p ? { bytes: p.bytes.toString('base64') } : { copy: p.copy })),
  };
  return JSON.stringify(doc);
}

/**
 * Reads edits written by encodeEdits, for an object whose received dataset has `originalDatasetBytes`.
 * Throws, naming `where`, on text that is not edits or copies bytes the object does not have.
 */
export function decodeEdits(text: string, originalDatasetBytes: number, where: string): DatasetEdits {
  let doc: EditsDocument;
  try {
    doc = JSON.parse(text) as EditsDocument;
  } catch {
    throw new Error(`${where} does not hold bodyroute edits`);
  }
  if (doc?.version !== 1 || !Array.isArray(doc.parts)) throw new Error(`${where} does not hold bodyroute edits`);
  const parts: SplicePart[] = doc.parts.map((p) => ('bytes' in p ? { bytes: Buffer.from(p.bytes, 'base64') } : { copy: [p.copy[0], p.copy[1]] }));
  for (const p of parts) {
    if ('copy' in p && !(p.copy[0] >= 0 && p.copy[0] <= p.copy[1] && p.copy[1] <= originalDatasetBytes))
      throw new Error(`${where} copies bytes the object does not have`);
  }
  const edits = editsFromParts(parts);
  if (edits.datasetBytes !== doc.datasetBytes) throw new Error(`${where} is inconsistent`);
  return edits;
}

/** Reads an <id>.edits file of an earlier version; undefined when there is none. Throws on a file that does not hold edits. */
export async function readEdits(path: string, originalDatasetBytes: number): Promise<DatasetEdits | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return decodeEdits(text.trim(), originalDatasetBytes, path);
}

/** What a DatasetReader needs to know of a stored object. */
export interface StoredDataset {
  path: string;
  datasetOffset: number;
  sizeBytes: number;
  edits?: DatasetEdits;
}

/** A dataset streamed window by window (see DatasetReader.next). */
export interface DatasetSource {
  readonly length: number;
  next(buffer: Buffer): Promise<Buffer[]>;
  close(): Promise<void>;
}

/** A dataset already in memory (a transcoded one), streamed like a spooled one. */
export class InMemoryDataset implements DatasetSource {
  private sent = false;
  constructor(private readonly bytes: Buffer) {}

  get length(): number {
    return this.bytes.length;
  }

  async next(): Promise<Buffer[]> {
    if (this.sent) return [];
    this.sent = true;
    return [this.bytes];
  }

  async close(): Promise<void> {}
}

/** The dataset as it leaves bodyroute: received bytes with any edits spliced in, read window by window. */
export class DatasetReader implements DatasetSource {
  private readonly parts: SplicePart[];
  private part = 0;
  /** Offset inside the current part. */
  private within = 0;
  readonly length: number;

  private constructor(
    private readonly handle: fsp.FileHandle,
    private readonly obj: StoredDataset,
  ) {
    const stored = obj.sizeBytes - obj.datasetOffset;
    this.parts = obj.edits ? obj.edits.parts : [{ copy: [0, stored] }];
    this.length = obj.edits ? obj.edits.datasetBytes : stored;
  }

  static async open(obj: StoredDataset): Promise<DatasetReader> {
    return new DatasetReader(await fsp.open(obj.path, 'r'), obj);
  }

  /**
   * The next at most `buffer.length` bytes, as pieces in order (views of `buffer` and of the edits);
   * empty at the end. The pieces are valid until the next call.
   */
  async next(buffer: Buffer): Promise<Buffer[]> {
    // plan the window first, then read the file range it needs in one go (copies are in file order)
    const plan: { part: SplicePart; from: number; to: number }[] = [];
    let budget = buffer.length;
    while (budget > 0 && this.part < this.parts.length) {
      const p = this.parts[this.part];
      const size = 'bytes' in p ? p.bytes.length : p.copy[1] - p.copy[0];
      const take = Math.min(budget, size - this.within);
      plan.push({ part: p, from: this.within, to: this.within + take });
      budget -= take;
      this.within += take;
      if (this.within === size) {
        this.part++;
        this.within = 0;
      }
    }
    const copies = plan.filter((w) => 'copy' in w.part);
    let base = 0;
    if (copies.length) {
      const first = copies[0];
      const last = copies[copies.length - 1];
      base = (first.part as { copy: [number, number] }).copy[0] + first.from;
      const end = (last.part as { copy: [number, number] }).copy[0] + last.to;
      // the file range can be longer than the window where edits replaced bytes; read it in pieces then
      if (end - base <= buffer.length) await this.readFully(buffer, 0, end - base, base);
      else base = -1;
    }
    const pieces: Buffer[] = [];
    let used = 0;
    for (const w of plan) {
      if ('bytes' in w.part) {
        pieces.push(w.part.bytes.subarray(w.from, w.to));
        continue;
      }
      const at = w.part.copy[0] + w.from;
      const len = w.to - w.from;
      if (base >= 0) {
        pieces.push(buffer.subarray(at - base, at - base + len));
      } else {
        await this.readFully(buffer, used, len, at);
        pieces.push(buffer.subarray(used, used + len));
        used += len;
      }
    }
    return pieces;
  }

  private async readFully(buffer: Buffer, offset: number, length: number, datasetPos: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, offset + done, length - done, this.obj.datasetOffset + datasetPos + done);
      if (bytesRead === 0) throw new Error(`spool file ${this.obj.path} is shorter than recorded`);
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

const COPY_WINDOW = 1024 * 1024;

/**
 * Writes a Part-10 file: `fileMeta`, then the dataset as it leaves bodyroute, through `tmp`
 * (datasync, rename), so `target` is whole or absent. The caller makes the rename durable.
 */
export async function writeObjectFile(target: string, tmp: string, fileMeta: Buffer, obj: StoredDataset): Promise<void> {
  try {
    const out = await fsp.open(tmp, 'w', 0o600);
    try {
      await out.write(fileMeta);
      await copyDataset(obj, out);
      await out.datasync();
    } finally {
      await out.close();
    }
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** The whole dataset as it leaves bodyroute, in memory. */
export async function readDataset(obj: StoredDataset): Promise<Buffer> {
  const reader = await DatasetReader.open(obj);
  try {
    const out = Buffer.allocUnsafe(reader.length);
    // a window of its own: pieces can be out of place in it where edits sit between copies
    const window = Buffer.allocUnsafe(Math.min(COPY_WINDOW, Math.max(reader.length, 1)));
    let at = 0;
    for (;;) {
      const pieces = await reader.next(window);
      if (pieces.length === 0) break;
      for (const p of pieces) at += p.copy(out, at);
    }
    if (at !== reader.length) throw new Error(`spool file ${obj.path} is shorter than recorded`);
    return out;
  } finally {
    await reader.close();
  }
}

/** Appends the dataset as it leaves bodyroute to an open file. */
async function copyDataset(obj: StoredDataset, out: fsp.FileHandle): Promise<void> {
  const reader = await DatasetReader.open(obj);
  try {
    const buffer = Buffer.allocUnsafe(Math.min(COPY_WINDOW, Math.max(reader.length, 1)));
    for (;;) {
      const pieces = await reader.next(buffer);
      if (pieces.length === 0) break;
      await out.writev(pieces);
    }
  } finally {
    await reader.close();
  }
}
