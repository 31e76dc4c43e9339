import { z } from 'zod';
import { ConfigPathSchema } from '../../config/fields';
import { DestinationType } from './destination-type';
import { dimseDestination, dimseSchema } from './dimse';
import { folderDestination, folderSchema } from './folder';

/** Every destination type: its schema (one line in the union) and its behaviour (one line in the table). */
export const destinationSchema = (path: ConfigPathSchema) => z.discriminatedUnion('type', [folderSchema(path), dimseSchema(path)]);

export type DestinationConfig = z.infer<ReturnType<typeof destinationSchema>>;

const TYPES: { [T in DestinationConfig['type']]: DestinationType<Extract<DestinationConfig, { type: T }>> } = {
  folder: folderDestination,
  dimse: dimseDestination,
};

/** The type of a configured destination. */
export function destinationType(d: DestinationConfig): DestinationType<DestinationConfig> {
  return TYPES[d.type] as DestinationType<DestinationConfig>;
}
