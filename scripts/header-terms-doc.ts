/** Writes docs/header-terms.md from the router's header tables. Usage: node dist/scripts/header-terms-doc.js [OUT] */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { headerTermsMarkdown } from '../src/classify/header-terms-doc';

writeFileSync(process.argv[2] ?? join(__dirname, '..', '..', 'docs', 'header-terms.md'), headerTermsMarkdown() + '\n');
