import { expect } from 'chai';
import { Router } from '../../../src/route/router';

describe('route/router', () => {
  it('stops at the first matching rule', () => {
    expect(new Router([{ to: ['a', 'b'], continue: false }, { to: ['c'], continue: false }]).route()).to.deep.equal(['a', 'b']);
  });
  it('keeps matching after a rule with continue, without duplicates', () => {
    expect(new Router([{ to: ['a'], continue: true }, { to: ['a', 'c'], continue: false }, { to: ['d'], continue: false }]).route()).to.deep.equal(['a', 'c']);
  });
});
