import { BodyrouteError } from '../../errors';
import { Logger } from '../../observability/logger';
import { TagWriter } from '../../tag/tag-writer';
import { Labelled, Tagged } from '../lifecycle';
import { eachObject, fail, next, retry, Stage, StageResult } from '../stage';

/** What to do with an object its label can never be written into (tagging.onFailure). */
export type TagFailurePolicy = 'forward-untagged' | 'quarantine';

/**
 * Records each label as edits of the object (journalled with its deliveries) or a tagged copy. An
 * object the label cannot be written into (no free private block, say) is forwarded as received
 * or failed, as tagging.onFailure says; any other error is passing (a full disk) and retried.
 */
export class TagStage implements Stage<Labelled, Tagged> {
  readonly name = 'tagging';

  constructor(
    private writer: Pick<TagWriter, 'write'> | undefined,
    private onFailure: TagFailurePolicy,
    private readonly log: Logger,
  ) {}

  /** SIGHUP: the writer and policy for objects tagged from now on. */
  configure(writer: Pick<TagWriter, 'write'> | undefined, onFailure: TagFailurePolicy): void {
    this.writer = writer;
    this.onFailure = onFailure;
  }

  readonly run = eachObject(async (l: Labelled): Promise<StageResult<Tagged>> => {
    const obj = l.object;
    if (!this.writer || !l.label) return next({ ...l, outgoing: obj });
    try {
      return next({ ...l, outgoing: await this.writer.write(obj, l.label) });
    } catch (err) {
      if (!(err instanceof BodyrouteError && err.code === 'TAG_IMPOSSIBLE')) return retry(err);
      if (this.onFailure === 'quarantine') return fail(err);
      this.log.warn('forwarded without the label: it cannot be written into this object', {
        id: obj.id,
        sopInstanceUid: obj.sopInstanceUid,
        code: err.code,
        reason: err.message,
      });
      return next({ ...l, outgoing: obj });
    }
  });
}
