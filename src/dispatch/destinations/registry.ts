import { z } from 'zod';
import { DestinationType } from './destination-type';
import { dimseDestination, dimseSchema } from './dimse';
import { folderDestination, folderSchema } from './folder';

/** Every destination type: its schema (one line in the union) and its behaviour (one line in the table). */
export const destinationSchema = z.discriminatedUnion('type', [folderSchema, dimseSchema]);

export type DestinationConfig = z.infer<typeof destinationSchema>;

const TYPES: { [T in DestinationConfig['type']]: DestinationType<Extract<DestinationConfig, { type: T }>> } = {
  folder: folderDestination,
  dimse: dimseDestination,
};

/** The type of a configured destination. */
export function destinationType(d: DestinationConfig): DestinationType<DestinationConfig> {
  return TYPES[d.type] as DestinationType<DestinationConfig>;
}
