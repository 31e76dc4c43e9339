import { expect } from 'chai';
import { GroupSync } from '../../../src/fs/group-sync';

describe('fs/group-sync', () => {
  it('coalesces concurrent requests: N callers, at most two syncs', async () => {
    let syncs = 0;
    const g = new GroupSync(async () => {
      syncs++;
      await new Promise((r) => setTimeout(r, 10));
    });
    await Promise.all(Array.from({ length: 50 }, () => g.sync()));
    expect(syncs).to.equal(2);
  });

  it('a caller arriving during a sync waits for a later one (its write may have missed the first)', async () => {
    const order: string[] = [];
    let n = 0;
    const g = new GroupSync(async () => {
      const me = ++n;
      order.push(`start${me}`);
      await new Promise((r) => setTimeout(r, 5));
      order.push(`end${me}`);
    });
    const first = g.sync();
    const second = g.sync().then(() => order.push('second-resolved'));
    await Promise.all([first, second]);
    expect(order).to.deep.equal(['start1', 'end1', 'start2', 'end2', 'second-resolved']);
  });
});
