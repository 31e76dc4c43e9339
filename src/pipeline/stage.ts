import { BodyrouteError } from '../errors';
import type { Received } from './lifecycle';

/** The stages, in the order an object meets them; quarantine reasons and logs name them. */
export type StageName = 'classification' | 'labelling' | 'tagging' | 'routing';

/**
 * A stage's answer for one object. Stages never throw to the runner (one that does is treated as
 * asking for a retry): the runner owns attempt counts, delays and quarantine.
 *   next   the object goes on to the next stage, with what this one added;
 *   retry  a passing problem (a full disk, a journal that cannot be written): run this stage again
 *          for the object after `afterMs` (default: pipeline.retryDelayMs), until the cap;
 *   fail   the object can never pass this stage: quarantined now, naming the stage.
 */
export type StageResult<Out> = { kind: 'next'; value: Out } | { kind: 'retry'; error: Error; afterMs?: number } | { kind: 'fail'; error: BodyrouteError };

/**
 * One step between the inbox and the destination queues. Its unit is a batch: one object in image
 * mode, the images of a series from labelling on in series mode, so that a series is labelled as a
 * whole and a retry keeps the label the whole series was given. It answers once per object, in order.
 */
export interface Stage<In extends Received, Out extends Received> {
  readonly name: StageName;
  run(batch: readonly In[]): Promise<StageResult<Out>[]>;
}

export const next = <Out>(value: Out): StageResult<Out> => ({ kind: 'next', value });
export const retry = <Out>(error: unknown, afterMs?: number): StageResult<Out> => ({ kind: 'retry', error: asError(error), afterMs });
export const fail = <Out>(error: BodyrouteError): StageResult<Out> => ({ kind: 'fail', error });

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The common shape: each object of the batch on its own, at once. */
export function eachObject<In, Out>(fn: (item: In) => Promise<StageResult<Out>>): (batch: readonly In[]) => Promise<StageResult<Out>[]> {
  return (batch) => Promise.all(batch.map(fn));
}
