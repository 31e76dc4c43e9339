import { z } from 'zod';
import { ConfigPathSchema, destinationName } from '../../config/fields';
import { FolderSender } from '../folder-sender';
import { DestinationType } from './destination-type';

/** A folder: Part-10 files in a study/series layout (folder-sender.ts). */
export const folderSchema = (path: ConfigPathSchema) =>
  z
    .object({
      name: destinationName,
      type: z.literal('folder'),
      path,
    })
    .strict();

export type FolderDestinationConfig = z.infer<ReturnType<typeof folderSchema>>;

export const folderDestination: DestinationType<FolderDestinationConfig> = {
  type: 'folder',
  lanes: () => 1,
  idleReleaseMs: () => 0,
  createSender: (d) => new FolderSender(d),
};
