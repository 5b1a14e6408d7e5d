import { Arg, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { assertValidInstanceId, parseClientId } from '../presence/client-id';
import { ForbiddenError, InvalidInputError } from '../presence/errors';
import { presenceChangeStream } from '../presence/presence-change-stream';
import type { PresenceChange as WatchedChange } from '../presence/presence-watch';
import { presenceKeyId, type PresenceKey } from '../presence/types';
import { parseDeviceGlobalId } from './device-id';
import type { GraphQLContext } from './context';
import { resolveInstanceId } from './instance-id';
import { PresenceChange } from './presence-change.type';

interface PresenceChangedArgs {
  clientIds?: string[] | null;
  instanceId?: string | null;
  ids?: string[] | null;
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
    @Arg('clientIds', () => [ID], { nullable: true, description: 'The MQTT Client IDs to watch, `<GroupID>@@@<DeviceID>`, of `instanceId`; at most MAX_IDS_PER_REQUEST distinct ones. Give this or `ids`.' }) _clientIds: string[] | null,
    @Arg('instanceId', () => String, { nullable: true, description: 'The ApsaraMQ for MQTT instance of `clientIds`; the configured default instance (MQTT_INSTANCE_ID) when left out.' }) _instanceId: string | null,
    @Arg('ids', () => [ID], { nullable: true, description: 'Devices by `Device.id`, which names the instance: one subscription may mix instances (and accounts). Give this or `clientIds`; at most MAX_IDS_PER_REQUEST distinct ones.' }) _ids: string[] | null,
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
  const keys = watchedKeys(args, context.defaultInstanceId);
  if (keys.length === 0) throw new InvalidInputError(`${args.ids ? 'ids' : 'clientIds'} must name at least one device`);
  if (keys.length > subscriptions.maxIdsPerSubscription) {
    throw new InvalidInputError(
      `This subscription watches ${keys.length} distinct devices; at most ${subscriptions.maxIdsPerSubscription} are allowed (MAX_IDS_PER_REQUEST)`,
    );
  }
  const outside = keys.find((key) => !subscriptions.inScope(key));
  if (outside) {
    throw new ForbiddenError(`Client ID ${JSON.stringify(outside.clientId)} of instance ${JSON.stringify(outside.instanceId)} is outside this caller's scope`);
  }
  return presenceChangeStream(subscriptions.watch, keys);
}

/** The distinct devices asked: Client IDs of one instance, or `Device.id`s of any instances; never both. */
function watchedKeys(args: PresenceChangedArgs, defaultInstanceId: string | undefined): PresenceKey[] {
  if ((args.clientIds == null) === (args.ids == null)) {
    throw new InvalidInputError('Give either clientIds (with instanceId) or ids (Device.id values), not both and not neither');
  }
  if (args.ids != null) {
    if (args.instanceId != null) throw new InvalidInputError('instanceId goes with clientIds: a Device.id in ids names its own instance');
    const keys = new Map<string, PresenceKey>();
    for (const id of args.ids) {
      const key = parseDeviceGlobalId(id);
      keys.set(presenceKeyId(key), key);
    }
    return [...keys.values()];
  }
  const instanceId = resolveInstanceId(args.instanceId, defaultInstanceId);
  assertValidInstanceId(instanceId);
  return [...new Set(args.clientIds)].map((clientId) => {
    parseClientId(clientId);
    return { instanceId, clientId };
  });
}
