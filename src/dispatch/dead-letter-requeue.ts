import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Spool } from '../spool/spool';
import { SpoolLayout } from '../spool/layout';

/**
 * Hands dead letters back: moves <spool>/dead/<destination>/<id>.dcm to requeue/<destination>/,
 * where the running router takes them into its queue (Dispatcher.takeRequeued). The one
 * operation behind `bodyroute requeue` and the status page's requeue buttons.
 */
export async function requeueDeadLetters(
  layout: SpoolLayout,
  destinations: readonly string[],
  ids: ReadonlySet<string> | 'all',
): Promise<{ id: string; destination: string }[]> {
  const moved: { id: string; destination: string }[] = [];
  for (const destination of destinations) {
    const files = await fsp.readdir(layout.deadFor(destination)).catch(() => [] as string[]);
    for (const f of files) {
      const id = Spool.idOfFile(f);
      if (id === undefined || (ids !== 'all' && !ids.has(id))) continue;
      await fsp.mkdir(layout.requeueFor(destination), { recursive: true, mode: 0o700 });
      await fsp.rename(join(layout.deadFor(destination), f), join(layout.requeueFor(destination), f));
      await fsp.unlink(join(layout.deadFor(destination), `${id}.json`)).catch(() => undefined);
      moved.push({ id, destination });
    }
  }
  return moved;
}
