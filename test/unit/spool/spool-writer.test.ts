import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileMeta } from '../../../src/dicom/part10';
import { SUMMARY_TAGS } from '../../../src/dicom/header';
import { SpoolWriter } from '../../../src/spool/spool-writer';
import { syntheticImage } from '../../helpers/synthetic-dicom';

describe('spool writer: pausing the source while the disk is behind (real file)', () => {
  let tmp: string;
  beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), 'bodyroute-writer-'))));
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  const writerFor = (bytes: Buffer, pauseAboveBytes: number) => {
    const meta = readFileMeta(bytes);
    const writer = new SpoolWriter({
      tmpPath: join(tmp, 'x.part'),
      header: bytes.subarray(0, meta.datasetOffset),
      transferSyntaxUid: meta.transferSyntaxUid,
      maxObjectBytes: 1 << 30,
      captureBytes: 1024 * 1024,
      pauseAboveBytes,
      summaryTags: SUMMARY_TAGS,
    });
    return { writer, dataset: bytes.subarray(meta.datasetOffset) };
  };

  it('lets the source go on after an object whose last bytes filled the buffer (no drain comes after end)', async () => {
    const image = syntheticImage({ rows: 256, columns: 256 });
    const { writer, dataset } = writerFor(image.bytes, 64 * 1024);
    const pressure: boolean[] = [];
    writer.onPressure((paused) => pressure.push(paused));
    // all of it at once, as a fast peer's last PDVs arrive: the buffer is over its limit when the object ends
    for (let at = 0; at < dataset.length; at += 16 * 1024) writer.write(dataset.subarray(at, at + 16 * 1024));
    expect(pressure, 'paused while the disk catches up').to.deep.equal([true]);
    const written = await writer.finish();
    expect(pressure, 'and let go once the object is written').to.deep.equal([true, false]);
    expect(
      readFileSync(written.path)
        .subarray(image.bytes.length - dataset.length)
        .equals(dataset),
    ).to.equal(true);
  });

  it('lets the source go on when the object is dropped while paused', async () => {
    const image = syntheticImage({ rows: 256, columns: 256 });
    const { writer, dataset } = writerFor(image.bytes, 64 * 1024);
    const pressure: boolean[] = [];
    writer.onPressure((paused) => pressure.push(paused));
    for (let at = 0; at < dataset.length / 2; at += 16 * 1024) writer.write(dataset.subarray(at, at + 16 * 1024));
    await writer.discard();
    expect(pressure).to.deep.equal([true, false]);
  });
});
