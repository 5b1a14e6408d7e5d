import { buildSubgraphSchema } from '@apollo/subgraph';
import { createPubSub } from '@graphql-yoga/subscription';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { parse, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, createResolversMap } from 'type-graphql';
import type { GraphQLContext } from './context';
import { DEVICE_FIELD_RESOLVERS, DeviceResolver, QUERY_RESOLVERS } from './device.resolver';
import { GroupPresenceResolver } from './group-presence.resolver';
import { NodeResolver } from './node.resolver';
import { PresenceChangedResolver } from './presence-changed.resolver';
import { Device } from './device.type';
import { resolveInstanceId } from './instance-id';
import { InvalidInputError } from '../presence/errors';

// Federation 2: the directives type-graphql emits must be imported from the spec they belong to.
const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';

const RESOLVERS = [DeviceResolver, NodeResolver, GroupPresenceResolver, PresenceChangedResolver] as const;

/** The SDL of this subgraph, directives kept: what `npm run schema` writes and `_service { sdl }` serves. */
export async function buildPresenceSdl(): Promise<string> {
  return printPresenceSdl(await buildTypeGraphQLSchema());
}

/**
 * The API as clients see it, for tools that know nothing of federation (graphql-inspector,
 * graphql-eslint, codegen, IDEs): the same types, with no `@link`, `@key`, `_entities`, `_service` or
 * `_Any`. What `npm run schema` writes to schema/client-schema.graphql.
 */
export async function buildClientSdl(): Promise<string> {
  return `${printSchema(await buildTypeGraphQLSchema())}\n`;
}

/**
 * The executable schema, built once per process and shared by every request: type-graphql's types and
 * resolvers, turned into an Apollo Federation 2 subgraph so a router can ask for `Device.online`
 * through `_entities`.
 */
export async function buildPresenceSchema(): Promise<GraphQLSchema> {
  const schema = await buildTypeGraphQLSchema();
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  return buildSubgraphSchema({
    typeDefs: parse(printPresenceSdl(schema)),
    resolvers: {
      ...resolvers,
      // The root fields without type-graphql's per-call wrapper (device.resolver.ts says why).
      Query: { ...resolvers.Query, ...QUERY_RESOLVERS },
      // Device is the only Node: no type-graphql lookup of the object's class per node.
      Node: { __resolveType: () => 'Device' },
      Device: {
        ...resolvers.Device,
        // The per-device fields without type-graphql's per-call wrapper (device.resolver.ts says why).
        ...DEVICE_FIELD_RESOLVERS,
        // Entities resolve to the same Device objects as Query.devices, so their `online` goes
        // through the request's DataLoader and packs into the same 10-ID calls.
        // Representations are caller input typed only as _Any: their fields are checked here. Async,
        // so a bad one fails only its own entity (a synchronous throw fails the whole _entities list).
        async __resolveReference(reference: { clientId?: unknown; instanceId?: unknown }, ctx: GraphQLContext): Promise<Device> {
          const { clientId, instanceId } = reference;
          if (typeof clientId !== 'string' || (instanceId != null && typeof instanceId !== 'string')) {
            throw new InvalidInputError('A Device representation needs a string clientId (and, if any, a string instanceId)');
          }
          return Device.of(clientId, resolveInstanceId(instanceId as string | undefined, ctx.defaultInstanceId));
        },
      },
    } as never,
  });
}

async function buildTypeGraphQLSchema(): Promise<GraphQLSchema> {
  // skipCheck: the @key directive is defined by the federation spec, not in this schema.
  // pubSub: type-graphql refuses to build a schema with a @Subscription without one. Nothing is
  // published on it: presenceChanged brings its own `subscribe` (a PresenceWatch stream).
  return buildSchema({ resolvers: RESOLVERS, skipCheck: true, validate: false, pubSub: createPubSub() });
}

function printPresenceSdl(schema: GraphQLSchema): string {
  return `${FEDERATION_LINK}\n\n${printSchemaWithDirectives(schema)}\n`;
}
