import { RouteConfig } from '../config/schema';
import { parseTag } from '../dicom/tags';
import { RouteRegion } from '../regions/region';

/** What routing rules look at, for one object. */
export interface RoutingFacts {
  /** The image's region, the series' regions (series mode), ['unknown'] or ['unclassified']. */
  regions: RouteRegion[];
  modality: string;
  callingAeTitle: string;
  calledAeTitle: string;
  /** Top-level attribute values by tag (those the rules name). */
  tags: Map<number, string>;
}

interface CompiledRule {
  to: string[];
  continue: boolean;
  region?: Set<string>;
  modality?: Set<string>;
  callingAeTitle?: Set<string>;
  calledAeTitle?: Set<string>;
  tags: { tag: number; pattern: RegExp }[];
}

/**
 * Rules are evaluated in order; the first match decides unless it says `continue: true`, in
 * which case later matching rules add their destinations. A rule without conditions matches
 * everything. All conditions of a rule must hold; a list matches any of its values.
 */
export class Router {
  private rules: CompiledRule[];

  constructor(rules: readonly RouteConfig[]) {
    this.rules = compile(rules);
  }

  /** New rules for the objects routed from now on (configuration reload). */
  replace(rules: readonly RouteConfig[]): void {
    this.rules = compile(rules);
  }

  /** Tags the rules need from each object. */
  get referencedTags(): number[] {
    return [...new Set(this.rules.flatMap((r) => r.tags.map((t) => t.tag)))];
  }

  private matches(r: CompiledRule, f: RoutingFacts): boolean {
    if (r.region && !f.regions.some((x) => r.region?.has(x))) return false;
    if (r.modality && !r.modality.has(f.modality.toUpperCase())) return false;
    if (r.callingAeTitle && !r.callingAeTitle.has(f.callingAeTitle.trim())) return false;
    if (r.calledAeTitle && !r.calledAeTitle.has(f.calledAeTitle.trim())) return false;
    return r.tags.every((t) => t.pattern.test(f.tags.get(t.tag) ?? ''));
  }

  route(facts: RoutingFacts): string[] {
    const out: string[] = [];
    for (const rule of this.rules) {
      if (!this.matches(rule, facts)) continue;
      for (const d of rule.to) if (!out.includes(d)) out.push(d);
      if (!rule.continue) break;
    }
    return out;
  }
}

function compile(rules: readonly RouteConfig[]): CompiledRule[] {
  return rules.map((r) => ({
    to: r.to,
    continue: r.continue,
    region: r.when?.region ? new Set(r.when.region) : undefined,
    modality: r.when?.modality ? new Set(r.when.modality.map((m) => m.toUpperCase())) : undefined,
    callingAeTitle: r.when?.callingAeTitle ? new Set(r.when.callingAeTitle.map((a) => a.trim())) : undefined,
    calledAeTitle: r.when?.calledAeTitle ? new Set(r.when.calledAeTitle.map((a) => a.trim())) : undefined,
    tags: Object.entries(r.when?.tags ?? {}).map(([t, p]) => ({ tag: parseTag(t), pattern: new RegExp(p) })),
  }));
}
