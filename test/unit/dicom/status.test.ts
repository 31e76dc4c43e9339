import { expect } from 'chai';
import { classifyStoreStatus, DimseStatus, formatStatus } from '../../../src/dicom/status';

describe('dicom/status', () => {
  it('treats success and warnings as delivered', () => {
    for (const s of [0x0000, 0xb000, 0xb007, 0xb006, 0x0001]) expect(classifyStoreStatus(s), s.toString(16)).to.be.oneOf(['success', 'warning']);
  });
  it('retries out-of-resources and unknown failures', () => {
    for (const s of [0xa700, 0xa7ff, 0x0110, 0xfe00]) expect(classifyStoreStatus(s), s.toString(16)).to.equal('retry');
  });
  it('gives up on statuses that say the object will never be accepted', () => {
    for (const s of [0xa900, 0xa9ff, 0xc000, 0xc123, 0x0122, 0x0124]) expect(classifyStoreStatus(s), s.toString(16)).to.equal('fatal');
  });
  it('formats statuses as DICOM writes them', () => {
    expect(formatStatus(DimseStatus.OutOfResources)).to.equal('0xA700');
    expect(formatStatus(DimseStatus.Success)).to.equal('0x0000');
  });
});
