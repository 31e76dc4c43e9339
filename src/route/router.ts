import { RouteConfig } from '../config/schema';

/** What routing rules look at. Later stages (classification) add to it. */
export type RoutingFacts = Record<string, never>;

/**
 * Rules are evaluated in order; the first match decides unless it says `continue: true`.
 * A rule without conditions matches everything (a default).
 */
export class Router {
  constructor(private readonly rules: readonly RouteConfig[]) {}

  route(): string[] {
    const out: string[] = [];
    for (const rule of this.rules) {
      for (const d of rule.to) if (!out.includes(d)) out.push(d);
      if (!rule.continue) break;
    }
    return out;
  }
}
