import { DeliveryItem } from './delivery-item';

/** A destination type: delivers one object or throws a BodyrouteError saying whether to retry. */
export interface Sender {
  readonly description: string;
  /** `upcoming` lets a sender negotiate for the next objects too (association reuse). */
  send(item: DeliveryItem, upcoming: readonly DeliveryItem[]): Promise<void>;
  /** Nothing to send for now: release held resources (associations). */
  idle(): Promise<void>;
  close(): Promise<void>;
}
