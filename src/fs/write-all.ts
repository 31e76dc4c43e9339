/** What writeAll needs of a file handle (fs.promises.FileHandle has it). */
export interface VectorWritable {
  writev(buffers: Buffer[]): Promise<{ bytesWritten: number }>;
}

/** writev until every byte is written: a regular file may take fewer bytes than asked (a disk filling up). */
export async function writeAll(handle: VectorWritable, buffers: Buffer[]): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  while (pending.length) {
    const { bytesWritten } = await handle.writev(pending);
    if (bytesWritten <= 0) throw new Error('the disk took no bytes');
    pending = afterBytes(pending, bytesWritten);
  }
}

function afterBytes(buffers: Buffer[], count: number): Buffer[] {
  let skip = count;
  const rest: Buffer[] = [];
  for (const b of buffers) {
    if (skip >= b.length) skip -= b.length;
    else {
      rest.push(skip ? b.subarray(skip) : b);
      skip = 0;
    }
  }
  return rest;
}
