import { expect } from 'chai';
import { buildFileMetaHeader, readFileMeta, PRIVATE_INFORMATION_CREATOR_UID } from '../../../src/dicom/part10';
import { MalformedError } from '../../../src/dicom/element-reader';

describe('dicom/part10', () => {
  it('writes a file meta header that reads back, odd-length UIDs padded with NUL', () => {
    const header = buildFileMetaHeader({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      sopInstanceUid: '1.2.3',
      transferSyntaxUid: '1.2.840.10008.1.2',
      sourceAeTitle: 'CT01',
    });
    expect(header.toString('latin1', 128, 132)).to.equal('DICM');
    const meta = readFileMeta(header);
    expect(meta).to.include({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      sopInstanceUid: '1.2.3',
      transferSyntaxUid: '1.2.840.10008.1.2',
      sourceAeTitle: 'CT01',
    });
    expect(meta.datasetOffset).to.equal(header.length);
    const uidAt = header.indexOf('1.2.3');
    expect(header[uidAt + 5]).to.equal(0); // NUL pad
    expect(header.length % 2).to.equal(0);
  });

  it('group length covers exactly the meta elements', () => {
    const header = buildFileMetaHeader({ sopClassUid: '1.2', sopInstanceUid: '1.2.3.4', transferSyntaxUid: '1.2.840.10008.1.2.1' });
    expect(header.readUInt32LE(132 + 8)).to.equal(header.length - (132 + 12));
  });

  it('keeps bodyroute private information and recognises only its own creator', () => {
    const info = Buffer.from('{"callingAeTitle":"X"}');
    const header = buildFileMetaHeader({ sopClassUid: '1.2', sopInstanceUid: '1.2.3', transferSyntaxUid: '1.2.840.10008.1.2.1', privateInformation: info });
    const meta = readFileMeta(header);
    expect(meta.privateInformation?.toString().trim()).to.equal(info.toString());
    expect(header.includes(Buffer.from(PRIVATE_INFORMATION_CREATOR_UID))).to.equal(true);
  });

  it('reads the dataset offset when followed by a dataset', () => {
    const header = buildFileMetaHeader({ sopClassUid: '1.2', sopInstanceUid: '1.2.3', transferSyntaxUid: '1.2.840.10008.1.2' });
    const file = Buffer.concat([header, Buffer.from([0x08, 0x00, 0x60, 0x00, 2, 0, 0, 0, 0x43, 0x54])]);
    expect(readFileMeta(file).datasetOffset).to.equal(header.length);
  });

  it('refuses a file without the DICM prefix', () => {
    expect(() => readFileMeta(Buffer.alloc(300))).to.throw(MalformedError, /DICM/);
  });
});
