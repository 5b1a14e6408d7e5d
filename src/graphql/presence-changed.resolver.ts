import { Arg, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { assertValidInstanceId, parseClientId } from '../presence/client-id';
import { ForbiddenError, InvalidInputError } from '../presence/errors';
import { presenceChangeStream } from '../presence/presence-change-stream';
import type { PresenceChange as WatchedChange } from '../presence/presence-watch';
import type { PresenceKey } from '../presence/types';
import type { GraphQLContext } from './context';
import { resolveInstanceId } from './instance-id';
import { PresenceChange } from './presence-change.type';

interface PresenceChangedArgs {
  clientIds: string[];
  instanceId?: string | null;
}

@Resolver()
export class PresenceChangedResolver {
  @Subscription(() => PresenceChange, {
    description:
      'The online status of each device, pushed: first its current status (`initial: true`), then every change. With client status notices (the local default; STATUS_NOTICES_URL on Alibaba Cloud): from the notices, within milliseconds. Without them: the local broker\'s connects and disconnects, or on Alibaba Cloud one shared poller every SUBSCRIPTION_POLL_INTERVAL_MS. The whole subscription is refused (BAD_USER_INPUT, FORBIDDEN) if any ID is malformed or outside the caller\'s scope. Over WebSocket (graphql-transport-ws) at /graphql, or Server-Sent Events (graphql-sse) at /graphql/stream.',
    subscribe: (data: SubscribeResolverData<unknown, PresenceChangedArgs, GraphQLContext>) => subscribePresence(data),
  })
  presenceChanged(
    @Root() change: WatchedChange,
    // Declared for the schema; `subscribe` above reads them, once, when the subscription starts.
    @Arg('clientIds', () => [ID], { description: 'The MQTT Client IDs to watch, `<GroupID>@@@<DeviceID>`; at most MAX_IDS_PER_REQUEST distinct ones.' }) _clientIds: string[],
    @Arg('instanceId', () => String, { nullable: true, description: 'The ApsaraMQ for MQTT instance; the configured default instance (MQTT_INSTANCE_ID) when left out.' }) _instanceId: string | null,
  ): PresenceChange {
    return PresenceChange.of(change);
  }
}

/**
 * Checks everything before anything is watched, so a refused subscription costs nothing: IDs are
 * well-formed, within MAX_IDS_PER_REQUEST, and inside the caller's scope (connection params).
 */
function subscribePresence({ args, context }: SubscribeResolverData<unknown, PresenceChangedArgs, GraphQLContext>): AsyncIterable<WatchedChange> {
  const { subscriptions } = context;
  if (!subscriptions) throw new InvalidInputError('Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql');
  const instanceId = resolveInstanceId(args.instanceId, context.defaultInstanceId);
  assertValidInstanceId(instanceId);
  const clientIds = [...new Set(args.clientIds)];
  if (clientIds.length === 0) throw new InvalidInputError('clientIds must name at least one device');
  if (clientIds.length > subscriptions.maxIdsPerSubscription) {
    throw new InvalidInputError(
      `This subscription watches ${clientIds.length} distinct Client IDs; at most ${subscriptions.maxIdsPerSubscription} are allowed (MAX_IDS_PER_REQUEST)`,
    );
  }
  const keys: PresenceKey[] = clientIds.map((clientId) => {
    parseClientId(clientId);
    return { instanceId, clientId };
  });
  const outside = keys.find((key) => !subscriptions.inScope(key));
  if (outside) {
    throw new ForbiddenError(`Client ID ${JSON.stringify(outside.clientId)} of instance ${JSON.stringify(instanceId)} is outside this caller's scope`);
  }
  return presenceChangeStream(subscriptions.watch, keys);
}
