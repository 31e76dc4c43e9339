import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { headerTermsMarkdown } from '../../../src/classify/header-terms-doc';

describe('docs/header-terms.md', () => {
  it('is the table the router reads (regenerate: node dist/scripts/header-terms-doc.js)', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'header-terms.md'), 'utf8');
    expect(doc).to.equal(headerTermsMarkdown() + '\n');
  });
});
