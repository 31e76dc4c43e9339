import { expect } from 'chai';
import { backoffDelay } from '../../../src/dispatch/backoff';
import { classifyStoreStatus } from '../../../src/dispatch/dimse-status';

describe('dispatch/backoff', () => {
  const retry = { initialDelayMs: 1000, maxDelayMs: 10000, factor: 2 };
  it('grows exponentially from the initial delay and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelay(retry, n))).to.deep.equal([0, 1000, 2000, 4000, 8000, 10000, 10000]);
  });
});

describe('dispatch/dimse-status', () => {
  it('treats success and warnings as delivered', () => {
    for (const s of [0x0000, 0xb000, 0xb007, 0xb006, 0x0001]) expect(classifyStoreStatus(s), s.toString(16)).to.be.oneOf(['success', 'warning']);
  });
  it('retries out-of-resources and unknown failures', () => {
    for (const s of [0xa700, 0xa7ff, 0x0110, 0xfe00]) expect(classifyStoreStatus(s), s.toString(16)).to.equal('retry');
  });
  it('gives up on statuses that say the object will never be accepted', () => {
    for (const s of [0xa900, 0xa9ff, 0xc000, 0xc123, 0x0122, 0x0124]) expect(classifyStoreStatus(s), s.toString(16)).to.equal('fatal');
  });
});
