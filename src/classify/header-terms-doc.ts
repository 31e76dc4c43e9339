import { HEADER_TABLES } from './header-regions';
import { Region } from '../regions/region';

/**
 * docs/header-terms.md, generated from the tables the router reads, so the documentation
 * cannot drift from the code (a unit test compares the file with this output).
 */
export function headerTermsMarkdown(): string {
  const lines: string[] = [];
  const byRegion = (table: Record<string, Region[]>) => {
    const groups = new Map<string, string[]>();
    for (const [term, regions] of Object.entries(table)) {
      const key = regions.join(' + ');
      groups.set(key, [...(groups.get(key) ?? []), term]);
    }
    return [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  };
  lines.push('# Header terms: how bodyroute reads the region a header names', '');
  lines.push(
    '_Generated from `src/classify/header-regions.ts` by `headerTermsMarkdown()`; `test/unit/classify/header-terms-doc.test.ts` fails when the two differ._',
    '',
  );
  lines.push(
    'With `classifier.useHeaders: true` (the default) the classifier reads, in this order, and stops at the first that names a region:',
    '',
    '1. Body Part Examined (0018,0015), as a whole term of the first table (PS3.16 Annex L defined terms, plus composites scanners write);',
    '2. Series Description (0008,103E), then Protocol Name (0018,1030), word by word;',
    '3. Study Description (0008,1030), word by word.',
    '',
    "Text is decoded in the object's Specific Character Set (0008,0005), upper-cased, accents and ß folded, and split at anything that is not a letter or a digit. Two-word phrases are read first. A term may name several regions; all of them get the prior (`HEADER_PRIOR_WEIGHT` in `src/classify/classification.ts`), and the image decides between them. A region the model has no class for (e.g. hand) enters with the image's share of a region it has no opinion on (1/number of classes) times the prior: the header decides it unless the image is sure of another region, and the outcome says `evidence: header`.",
    '',
  );
  const table = (title: string, t: Record<string, Region[]>) => {
    lines.push(`## ${title}`, '', '| region(s) | terms |', '|---|---|');
    for (const [regions, terms] of byRegion(t))
      lines.push(
        `| ${regions} | ${terms
          .sort()
          .map((x) => `\`${x}\``)
          .join(', ')} |`,
      );
    lines.push('');
  };
  table('Body Part Examined terms (also read as words in descriptions)', HEADER_TABLES.bodyPart);
  table('Words and abbreviations (English, German, French, Italian, Spanish, Dutch)', HEADER_TABLES.words);
  table('Two-word phrases', HEADER_TABLES.phrases);
  return lines.join('\n');
}
