import { Dispatcher } from './dispatch/dispatcher';
import { Pipeline } from './pipeline/pipeline';
import { Spool } from './spool/spool';

/**
 * What `serve` does with a spool left by an earlier run, before it accepts anything new, in the
 * one order that loses nothing (docs/architecture.md, "Durability, step by step"):
 * 1. the spool: partial receives in tmp/ (never acknowledged) removed, inbox edits made again later;
 * 2. the journals replayed: which stored object is still pending for which destination;
 * 3. store/: pending objects queued again (with their failed attempts), fully delivered ones removed;
 * 4. inbox/: acknowledged but unrouted objects run through the pipeline again;
 * 5. the destination queues start, and with them requeue/ is watched.
 */
export async function recoverSpool(spool: Spool, dispatcher: Dispatcher, pipeline: Pipeline): Promise<void> {
  await spool.init();
  await dispatcher.init();
  await dispatcher.recoverStored();
  await pipeline.recoverInbox();
  await dispatcher.start();
}
