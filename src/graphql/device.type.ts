import { Directive, Field, ID, ObjectType } from 'type-graphql';
import type { PresenceStatus } from '../presence/types';

/**
 * A device is an MQTT client of one ApsaraMQ for MQTT instance. Other subgraphs of a supergraph own
 * its name, owner and location; this service adds whether it is online.
 */
@Directive('@key(fields: "clientId")')
// simpleResolvers: the plain fields (clientId, instanceId) are read by graphql-js directly, without a
// type-graphql wrapper per field and device (measured in BENCHMARKS.md, performance pass).
@ObjectType({ description: 'An MQTT client (device) of an ApsaraMQ for MQTT instance.', simpleResolvers: true })
export class Device {
  @Field(() => ID, { description: 'The MQTT Client ID, `<GroupID>@@@<DeviceID>`.' })
  clientId!: string;

  @Field(() => String, { description: 'The ApsaraMQ for MQTT instance the device connects to.' })
  instanceId!: string;

  /**
   * The device's status when whatever produced the device already knows it (a page of the presence
   * table): its `online` and `presence` answer from it, with no lookup. Not a GraphQL field.
   */
  known?: PresenceStatus;

  static of(clientId: string, instanceId: string, known?: PresenceStatus): Device {
    const device = new Device();
    device.clientId = clientId;
    device.instanceId = instanceId;
    if (known) device.known = known;
    return device;
  }
}
