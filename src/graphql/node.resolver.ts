import { Arg, ID, Query, Resolver } from 'type-graphql';
import { Device } from './device.type';
import { parseDeviceGlobalId } from './device-id';
import { Node } from './node.type';

/**
 * Relay's `node` and `nodes`: a device fetched again by its global ID (device-id.ts). IDs may name
 * any instance; the device's `online` and `presence` then go through the request's loaders like those
 * of `device` and `devices`, so the caller's scope, MAX_IDS_PER_REQUEST and MAX_QUERY_COST apply
 * (requested-devices.ts counts these fields before anything runs).
 */
@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    nullable: true,
    description: 'The object with this global ID (a `Device.id`). A malformed ID is null here, with a BAD_USER_INPUT error at this field.',
  })
  node(@Arg('id', () => ID, { description: 'A global ID as received, for instance a `Device.id`.' }) id: string): Node {
    return NODE_RESOLVERS.node(undefined, { id });
  }

  @Query(() => [Node], {
    nullable: 'items',
    description:
      'The objects with these global IDs, in the order asked and with duplicates kept. A malformed ID is null at its own index, with a BAD_USER_INPUT error there; the others are answered.',
  })
  nodes(@Arg('ids', () => [ID], { description: 'Global IDs as received, for instance `Device.id`s; several instances may be mixed.' }) ids: string[]): Array<Node | Error> {
    return NODE_RESOLVERS.nodes(undefined, { ids });
  }
}

export const NODE_RESOLVERS = {
  node: (_: unknown, args: { id: string }): Device => {
    const key = parseDeviceGlobalId(args.id);
    return Device.of(key.clientId, key.instanceId);
  },
  // An Error in a list is completed by graphql-js as a null item with that error at its own path.
  nodes: (_: unknown, args: { ids: readonly string[] }): Array<Device | Error> =>
    args.ids.map((id) => {
      try {
        const key = parseDeviceGlobalId(id);
        return Device.of(key.clientId, key.instanceId);
      } catch (error) {
        return error as Error;
      }
    }),
};
