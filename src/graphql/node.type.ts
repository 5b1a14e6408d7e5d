import { Field, ID, InterfaceType } from 'type-graphql';

/**
 * The Relay convention for objects with a global ID: `Query.node(id:)` and `Query.nodes(ids:)` fetch
 * them again by that ID, and client caches key them by it. `Device` is the only one here.
 */
@InterfaceType({ description: 'An object with a stable, globally unique ID (the Relay convention).', resolveType: () => 'Device' })
export abstract class Node {
  @Field(() => ID, { description: 'Stable and globally unique: cache keys and `node(id:)` use it. Opaque: pass it on as received.' })
  id!: string;
}
