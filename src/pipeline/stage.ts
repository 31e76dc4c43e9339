import { BodyrouteError } from '../errors';
import { SpooledObject } from '../spool/spooled-object';

/**
 * A processing step between the inbox and routing (classification and tagging plug in here).
 * Stages never throw to the runner: they answer with a result.
 */
export type StageResult =
  { kind: 'ok'; object: SpooledObject } | { kind: 'retry'; afterMs: number; error: BodyrouteError } | { kind: 'fail'; error: BodyrouteError };

export interface Stage {
  readonly name: string;
  run(obj: SpooledObject): Promise<StageResult>;
}
