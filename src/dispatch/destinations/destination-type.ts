import { Logger } from '../../observability/logger';
import { Sender } from '../sender';

/** What a destination type gets from the router when it makes its senders. */
export interface SenderContext {
  /** listen.aeTitle: the calling AE title unless the destination names its own. */
  callingAeTitle: string;
  log: Logger;
}

/**
 * One kind of destination (folder, dimse, …): its configuration schema lives beside it, and this
 * says how the router resolves its paths, how many lanes (associations) it uses, and makes its
 * senders. A new type is one file exporting this plus one line in registry.ts.
 */
export interface DestinationType<C extends { name: string; type: string }> {
  readonly type: C['type'];
  /** Objects sent at once (one sender each). */
  lanes(d: C): number;
  /** Release a lane's connection after this long with nothing to send (0: nothing to release). */
  idleReleaseMs(d: C): number;
  createSender(d: C, ctx: SenderContext): Sender;
}
