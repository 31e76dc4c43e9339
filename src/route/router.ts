import { RouteConfig } from '../config/schema';
import { CONDITIONS, ConditionKey } from './conditions';
import { RoutingFacts } from './facts';

export type { RoutingFacts } from './facts';

interface CompiledRule {
  to: string[];
  continue: boolean;
  tests: ((facts: RoutingFacts) => boolean)[];
  tags: number[];
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
    return [...new Set(this.rules.flatMap((r) => r.tags))];
  }

  /** Tags some rules would need, without compiling them (to check a new configuration against what is read at receive time). */
  static tagsNamedBy(rules: readonly RouteConfig[]): number[] {
    return [...new Set(rules.flatMap((r) => (r.when?.tags ? CONDITIONS.tags.tagsRead(r.when.tags) : [])))];
  }

  route(facts: RoutingFacts): string[] {
    const out: string[] = [];
    for (const rule of this.rules) {
      if (!rule.tests.every((test) => test(facts))) continue;
      for (const d of rule.to) if (!out.includes(d)) out.push(d);
      if (!rule.continue) break;
    }
    return out;
  }
}

function compile(rules: readonly RouteConfig[]): CompiledRule[] {
  return rules.map((r) => {
    const when = Object.entries(r.when ?? {}).filter(([, v]) => v !== undefined) as [ConditionKey, never][];
    return {
      to: r.to,
      continue: r.continue,
      tests: when.map(([key, value]) => CONDITIONS[key].compile(value)),
      tags: r.when?.tags ? CONDITIONS.tags.tagsRead(r.when.tags) : [],
    };
  });
}
