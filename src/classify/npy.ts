import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Writes a float32 .npy array (NumPy format 1.0) slice by slice, so a large export is
 * never held in memory. The shape is fixed up front.
 */
export class NpyFloat32Writer {
  private readonly fd: number;
  private written = 0;
  private readonly sliceLength: number;

  constructor(
    path: string,
    private readonly shape: number[],
  ) {
    this.sliceLength = shape.slice(1).reduce((a, b) => a * b, 1);
    this.fd = openSync(path, 'w', 0o644);
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
    const unpadded = 10 + dict.length + 1;
    const padded = Math.ceil(unpadded / 64) * 64;
    const header = Buffer.alloc(padded, 0x20);
    header.write('\x93NUMPY', 0, 'latin1');
    header[6] = 1;
    header[7] = 0;
    header.writeUInt16LE(padded - 10, 8);
    header.write(dict, 10, 'latin1');
    header[padded - 1] = 0x0a;
    writeSync(this.fd, header);
  }

  append(slice: Float32Array): void {
    if (slice.length !== this.sliceLength) throw new Error(`slice of ${slice.length} values, expected ${this.sliceLength}`);
    if (this.written >= this.shape[0]) throw new Error('more slices than the declared shape');
    writeSync(this.fd, Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength));
    this.written++;
  }

  close(): void {
    if (this.written !== this.shape[0]) throw new Error(`wrote ${this.written} slices, declared ${this.shape[0]}`);
    closeSync(this.fd);
  }
}

/** Reads a float32 .npy written by NpyFloat32Writer (tests, tools). */
export function readNpyFloat32(buf: Buffer): { shape: number[]; data: Float32Array } {
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error('not a .npy file');
  const headerLength = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLength);
  if (!header.includes("'<f4'")) throw new Error('not a little-endian float32 array');
  const m = /'shape': \(([^)]*)\)/.exec(header);
  const shape = (m?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const start = 10 + headerLength;
  const copy = Buffer.from(buf.subarray(start));
  return { shape, data: new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4) };
}
