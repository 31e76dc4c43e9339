import { z } from 'zod';
import { parseTag } from '../dicom/tags';
import { ROUTE_REGIONS } from '../regions/region';
import { RoutingFacts } from './facts';

/** A value or a non-empty list of them, as a list. */
const oneOrMany = <T extends z.ZodTypeAny>(item: T) => z.union([item, z.array(item).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

const tagPatterns = z.record(z.string(), z.string()).superRefine((tags, ctx) => {
  for (const [k, v] of Object.entries(tags)) {
    try {
      parseTag(k);
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [k], message: (err as Error).message });
    }
    try {
      new RegExp(v);
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [k], message: `invalid regular expression: ${(err as Error).message}` });
    }
  }
});

/** A set of values compared after the same normalisation on both sides. */
function anyOf(values: readonly string[], norm: (s: string) => string, fact: (f: RoutingFacts) => string): (f: RoutingFacts) => boolean {
  const set = new Set(values.map(norm));
  return (f) => set.has(norm(fact(f)));
}

/**
 * The routing conditions, one entry each: its schema (the `when` key of a rule), how a configured
 * value becomes a test on the facts of an object, and the tags it needs read at receive time.
 * A new condition is one entry here plus the fact it reads (facts.ts).
 */
export const CONDITIONS = {
  /** Vocabulary regions, 'unknown' (below the model's threshold) or 'unclassified' (not a CT/MR image, a CT localizer). */
  region: {
    schema: oneOrMany(z.enum(ROUTE_REGIONS)),
    compile: (regions: string[]) => {
      const set = new Set(regions);
      return (f: RoutingFacts) => f.regions.some((r) => set.has(r));
    },
  },
  modality: {
    schema: oneOrMany(z.string().min(1)),
    compile: (values: string[]) =>
      anyOf(
        values,
        (s) => s.toUpperCase(),
        (f) => f.modality,
      ),
  },
  callingAeTitle: {
    schema: oneOrMany(z.string().min(1)),
    compile: (values: string[]) =>
      anyOf(
        values,
        (s) => s.trim(),
        (f) => f.callingAeTitle,
      ),
  },
  calledAeTitle: {
    schema: oneOrMany(z.string().min(1)),
    compile: (values: string[]) =>
      anyOf(
        values,
        (s) => s.trim(),
        (f) => f.calledAeTitle,
      ),
  },
  /** "(gggg,eeee)": regular expression matched against the element's value. */
  tags: {
    schema: tagPatterns,
    compile: (patterns: Record<string, string>) => {
      const tests = Object.entries(patterns).map(([t, p]) => ({ tag: parseTag(t), pattern: new RegExp(p) }));
      return (f: RoutingFacts) => tests.every((t) => t.pattern.test(f.tags.get(t.tag) ?? ''));
    },
    tagsRead: (patterns: Record<string, string>) => Object.keys(patterns).map(parseTag),
  },
};

type Conditions = typeof CONDITIONS;
export type ConditionKey = keyof Conditions;

/** The `when` object of a route rule, built from the table. */
export const whenSchema = z
  .object(
    Object.fromEntries(Object.entries(CONDITIONS).map(([k, c]) => [k, c.schema.optional()])) as { [K in ConditionKey]: z.ZodOptional<Conditions[K]['schema']> },
  )
  .strict();
