import { expect } from 'chai';
import { backoffDelay } from '../../../src/dispatch/backoff';

describe('dispatch/backoff', () => {
  const retry = { initialDelayMs: 1000, maxDelayMs: 10000, factor: 2 };
  it('grows exponentially from the initial delay and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelay(retry, n))).to.deep.equal([0, 1000, 2000, 4000, 8000, 10000, 10000]);
  });
});
