import { expect } from 'chai';
import { VectorWritable, writeAll } from '../../../src/fs/write-all';

/** A file that takes at most `perCall` bytes a call, as a disk filling up may. */
function stingyFile(perCall: number): VectorWritable & { bytes: Buffer; calls: number } {
  const file = {
    bytes: Buffer.alloc(0),
    calls: 0,
    writev(buffers: Buffer[]) {
      file.calls++;
      const taken = Buffer.concat(buffers).subarray(0, perCall);
      file.bytes = Buffer.concat([file.bytes, taken]);
      return Promise.resolve({ bytesWritten: taken.length });
    },
  };
  return file;
}

describe('fs/write-all', () => {
  it('writes the rest when a write takes fewer bytes than asked, across buffer boundaries', async () => {
    const parts = [Buffer.from('file meta|'), Buffer.alloc(0), Buffer.from('dataset bytes'), Buffer.from('|end')];
    const file = stingyFile(4);
    await writeAll(file, parts);
    expect(file.bytes.toString()).to.equal('file meta|dataset bytes|end');
    expect(file.calls).to.equal(7);
  });

  it('fails, rather than loop, when the file takes nothing', async () => {
    const failure = await writeAll(stingyFile(0), [Buffer.from('x')]).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(failure).to.equal('the disk took no bytes');
  });
});
