import { z } from 'zod';
import { destinationName } from '../../config/fields';
import { FolderSender } from '../folder-sender';
import { DestinationType } from './destination-type';

/** A folder: Part-10 files in a study/series layout (folder-sender.ts). */
export const folderSchema = z
  .object({
    name: destinationName,
    type: z.literal('folder'),
    path: z.string().min(1),
  })
  .strict();

export type FolderDestinationConfig = z.infer<typeof folderSchema>;

export const folderDestination: DestinationType<FolderDestinationConfig> = {
  type: 'folder',
  resolvePaths: (d, abs) => {
    d.path = abs(d.path);
  },
  lanes: () => 1,
  idleReleaseMs: () => 0,
  createSender: (d) => new FolderSender(d),
};
