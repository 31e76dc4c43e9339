import { expect } from 'chai';
import { ResidentBudget } from '../../../src/spool/resident-budget';

describe('spool/resident-budget', () => {
  it('keeps datasets while they fit, frees what is released, and refuses an id it already holds', () => {
    const budget = new ResidentBudget(100);
    const a = Buffer.alloc(60);
    expect(budget.admit('a', a)).to.equal(a);
    expect(budget.admit('b', Buffer.alloc(50))).to.equal(undefined);
    expect(budget.admit('a', Buffer.alloc(10))).to.equal(undefined);
    expect(budget.admit('none', undefined)).to.equal(undefined);
    expect(budget.usedBytes).to.equal(60);
    budget.release('a');
    budget.release('a');
    budget.release('unknown');
    expect(budget.usedBytes).to.equal(0);
    const b = Buffer.alloc(50);
    expect(budget.admit('b', b)).to.equal(b);
    expect(budget.usedBytes).to.equal(50);
  });
});
