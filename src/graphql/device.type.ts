import { Directive, Field, ID, ObjectType } from 'type-graphql';
import type { PresenceStatus } from '../presence/types';
import { deviceGlobalId } from './device-id';
import { Node } from './node.type';

/**
 * A device is an MQTT client of one ApsaraMQ for MQTT instance. Other subgraphs of a supergraph own
 * its name, owner and location; this service adds whether it is online.
 */
// Two keys: `clientId` alone for the default instance (what other subgraphs of one instance already
// use), and `instanceId clientId` for a supergraph spanning several instances.
@Directive('@key(fields: "clientId")')
@Directive('@key(fields: "instanceId clientId")')
// simpleResolvers: the plain fields (clientId, instanceId) are read by graphql-js directly, without a
// type-graphql wrapper per field and device (measured in BENCHMARKS.md, performance pass).
@ObjectType({ description: 'An MQTT client (device) of an ApsaraMQ for MQTT instance.', implements: Node, simpleResolvers: true })
export class Device implements Node {
  /** Computed when selected (a getter, read by graphql-js's default resolver): no string per device otherwise. */
  @Field(() => ID, {
    description:
      'Stable and globally unique (instance and Client ID): Apollo Client, urql Graphcache and Relay key the device by it with no configuration, and `node(id:)` fetches it. Opaque: pass it on as received.',
  })
  get id(): string {
    return deviceGlobalId(this);
  }

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
