import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Query, Resolver, Root } from 'type-graphql';
import { parseClientId } from '../presence/client-id';
import type { PresenceStatus } from '../presence/types';
import type { GraphQLContext } from './context';
import { throwAtField } from './errors';
import { Device } from './device.type';
import { resolveInstanceId } from './instance-id';
import { Presence } from './presence.type';

@Resolver(() => Device)
export class DeviceResolver {
  @Query(() => Device, { description: 'One device. Its `online` is looked up only if selected.' })
  device(
    @Arg('clientId', () => ID, { description: 'The MQTT Client ID, `<GroupID>@@@<DeviceID>`.' }) clientId: string,
    @Arg('instanceId', () => String, { nullable: true, description: 'The ApsaraMQ for MQTT instance; the configured default instance (MQTT_INSTANCE_ID) when left out.' }) instanceId: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Device {
    return QUERY_RESOLVERS.device(undefined, { clientId, instanceId }, ctx);
  }

  @Query(() => [Device], {
    description:
      'Several devices, in the order asked and with duplicates kept. A malformed or failed ID errors only at its own fields.',
  })
  devices(
    @Arg('clientIds', () => [ID], { description: 'MQTT Client IDs, `<GroupID>@@@<DeviceID>`; at most MAX_IDS_PER_REQUEST distinct ones per request.' }) clientIds: string[],
    @Arg('instanceId', () => String, { nullable: true, description: 'The ApsaraMQ for MQTT instance; the configured default instance (MQTT_INSTANCE_ID) when left out.' }) instanceId: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Device[] {
    return QUERY_RESOLVERS.devices(undefined, { clientIds, instanceId }, ctx);
  }

  @FieldResolver(() => String, { nullable: true, description: 'The Group ID part of the Client ID.' })
  groupId(@Root() device: Device): string {
    return parseClientId(device.clientId).groupId;
  }

  @FieldResolver(() => String, { nullable: true, description: 'The Device ID part of the Client ID.' })
  deviceId(@Root() device: Device): string {
    return parseClientId(device.clientId).deviceId;
  }

  @FieldResolver(() => Presence, {
    nullable: true,
    description: 'The online status with when it was checked and where it came from. Null, with an error at its path, when it cannot be known.',
  })
  presence(
    @Root() device: Device,
    @Arg('exact', () => Boolean, {
      nullable: true,
      defaultValue: false,
      description: 'True to ask QuerySessionByClientId (one billed call per device, never from the cache); false for the batched, cached answer.',
    })
    exact: boolean | null,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Presence | Promise<Presence> {
    return DEVICE_FIELD_RESOLVERS.presence(device, { exact }, ctx, info);
  }

  // Nullable on purpose: an upstream failure nulls only this field, with an error at its path,
  // and never blanks out the list around it.
  @FieldResolver(() => Boolean, {
    nullable: true,
    description:
      'Whether the device has a live MQTT session. By default from BatchQuerySessionByClientIds (batched, may lag by the upstream cache and this service\'s PRESENCE_CACHE_TTL_MS); `exact: true` asks QuerySessionByClientId (one call per device, never answered from the cache).',
  })
  online(
    @Root() device: Device,
    @Arg('exact', () => Boolean, {
      nullable: true,
      defaultValue: false,
      description: 'True to ask QuerySessionByClientId (one billed call per device, never from the cache); false for the batched, cached answer.',
    })
    exact: boolean | null,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): boolean | Promise<boolean> {
    return DEVICE_FIELD_RESOLVERS.online(device, { exact }, ctx, info);
  }
}

/**
 * `device` and `devices` as plain graphql-js resolvers, for the same reason as the per-device fields
 * below: type-graphql's wrapper re-reads and converts every argument (all 100 Client IDs of a list)
 * on each call. The methods above define them in the schema and call these.
 */
export const QUERY_RESOLVERS = {
  device: (_: unknown, args: { clientId: string; instanceId?: string | null }, ctx: GraphQLContext): Device =>
    Device.of(args.clientId, resolveInstanceId(args.instanceId, ctx.defaultInstanceId)),
  devices: (_: unknown, args: { clientIds: readonly string[]; instanceId?: string | null }, ctx: GraphQLContext): Device[] => {
    const instanceId = resolveInstanceId(args.instanceId, ctx.defaultInstanceId);
    return args.clientIds.map((clientId) => Device.of(clientId, instanceId));
  },
};

interface ExactArgs {
  exact?: boolean | null;
}

/**
 * `online` and `presence` as plain graphql-js resolvers. The methods above define them in the schema
 * (type, arguments, descriptions) and call these; schema.ts also installs these directly in the
 * executable schema, in place of the type-graphql wrappers of those methods. They run once per device
 * of every request, and the wrapper (which sorts the parameters and validates the arguments
 * asynchronously on every call) took a quarter of the CPU of an all-cached 100-device query
 * (BENCHMARKS.md, performance pass). Nothing else is lost: this schema uses no type-graphql
 * middleware or authorization; scope and limits are enforced in the request's loaders.
 */
export const DEVICE_FIELD_RESOLVERS = {
  online: (device: Device, args: ExactArgs, ctx: GraphQLContext, info: GraphQLResolveInfo): boolean | Promise<boolean> =>
    withStatus(ctx, device, args.exact === true, onlineOf, info),
  presence: (device: Device, args: ExactArgs, ctx: GraphQLContext, info: GraphQLResolveInfo): Presence | Promise<Presence> =>
    args.exact === true ? withStatus(ctx, device, true, exactPresenceOf, info) : withStatus(ctx, device, false, cachedPresenceOf, info),
};

// Hoisted: these run once per device of every request, and an inline arrow would be a new function each time.
const onlineOf = (status: PresenceStatus): boolean => status.online;
const exactPresenceOf = (status: PresenceStatus): Presence => Presence.of(status, true);
const cachedPresenceOf = (status: PresenceStatus): Presence => Presence.of(status, false);
const EXACT = { exact: true } as const;

/**
 * A field of the device's status. `online` and `presence` of one device share one status for the
 * request. One the in-process cache holds is answered at once: no promise for graphql-js to wait on,
 * so an all-cached list completes without a Promise.all per device (BENCHMARKS.md, performance pass);
 * any other goes through the request's DataLoader. The Device itself is the key: it has the key's two
 * fields, and one object less per device.
 */
function withStatus<T>(
  ctx: GraphQLContext,
  device: Device,
  exact: boolean,
  field: (status: PresenceStatus) => T,
  info: GraphQLResolveInfo,
): T | Promise<T> {
  if (exact) return fieldOf(ctx.presence.load(device, EXACT), field, info);
  if (device.known) return field(device.known);
  let now: PresenceStatus | undefined;
  try {
    now = ctx.presence.loadNow(device);
  } catch (error) {
    throwAtField(error, info);
  }
  return now === undefined ? fieldOf(ctx.presence.load(device), field, info) : field(now);
}

/**
 * The field of a status still to come. A device's error goes to its field already placed
 * (throwAtField): no stack trace per failed device. A function of its own so that the closure over
 * `info` is made only for a status not known at once.
 */
function fieldOf<T>(status: Promise<PresenceStatus>, field: (status: PresenceStatus) => T, info: GraphQLResolveInfo): Promise<T> {
  return status.then(field, (error: unknown) => throwAtField(error, info));
}
