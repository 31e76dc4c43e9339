import { expect } from 'chai';
import { deflateRawSync } from 'node:zlib';
import { summarizeDataset } from '../../../src/dicom/header';
import { readFileMeta } from '../../../src/dicom/part10';
import { MalformedError } from '../../../src/dicom/element-reader';
import { Tags } from '../../../src/dicom/tags';
import { encodeDataset, str, syntheticImage } from '../../helpers/synthetic-dicom';

describe('dicom/header', () => {
  const img = syntheticImage({ rows: 32, columns: 32, seriesDescription: 'CHEST 1MM' });
  const dataset = img.bytes.subarray(readFileMeta(img.bytes).datasetOffset);

  it('reads the routing attributes from a whole dataset', () => {
    const s = summarizeDataset(dataset, img.transferSyntaxUid);
    expect(s.extent).to.equal('complete');
    expect(s).to.include({ sopInstanceUid: img.sopInstanceUid, studyInstanceUid: img.studyUid, seriesInstanceUid: img.seriesUid, modality: 'CT' });
    expect(s.values.get(Tags.SeriesDescription)).to.equal('CHEST 1MM');
  });

  it('reads a prefix and says which element runs past it', () => {
    const s = summarizeDataset(dataset.subarray(0, dataset.length - 100), img.transferSyntaxUid);
    expect(s.extent).to.equal('truncated');
    expect(s.openElement?.tag).to.equal(Tags.PixelData);
    expect(s.openElement?.length).to.equal(32 * 32 * 2);
    expect(s.sopInstanceUid).to.equal(img.sopInstanceUid);
  });

  it('reads a deflated dataset, even a prefix of one', () => {
    const deflated = deflateRawSync(dataset);
    const s = summarizeDataset(deflated.subarray(0, Math.floor(deflated.length / 2)), '1.2.840.10008.1.2.1.99');
    expect(s.sopInstanceUid).to.equal(img.sopInstanceUid);
  });

  it('refuses elements out of tag order', () => {
    const good = encodeDataset([str(0x00100010, 'PN', 'A')], true);
    const earlier = encodeDataset([str(0x00080060, 'CS', 'CT')], true);
    expect(() => summarizeDataset(Buffer.concat([good, earlier]), '1.2.840.10008.1.2.1')).to.throw(MalformedError, /order/);
  });
});
