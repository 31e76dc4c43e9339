import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BodyrouteError } from '../../src/errors';

const ROOT = join(__dirname, '..', '..', '..');

describe('error catalogue', () => {
  it('docs/architecture.md lists exactly the codes of src/errors.ts', () => {
    const source = readFileSync(join(ROOT, 'src', 'errors.ts'), 'utf8');
    const union = /export type ErrorCode =([^;]*);/.exec(source)?.[1] ?? '';
    const codes = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]).sort();
    const documented = [...readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8').matchAll(/^\| ([A-Z][A-Z_]+) \| (?:yes|no) \|/gm)]
      .map((m) => m[1])
      .sort();
    expect(codes.length).to.be.greaterThan(10);
    expect(documented).to.deep.equal(codes);
  });

  it('scopes a destination that is down to the destination, everything else to the object', () => {
    expect(new BodyrouteError('DEST_UNREACHABLE', 'x', true).scope).to.equal('destination');
    expect(new BodyrouteError('DEST_REJECTED_ASSOCIATION', 'x', true).scope).to.equal('destination');
    expect(new BodyrouteError('DEST_STATUS_RETRYABLE', 'x', true).scope).to.equal('object');
    expect(new BodyrouteError('TRANSCODE_FAILED', 'x', false).scope).to.equal('object');
  });
});
