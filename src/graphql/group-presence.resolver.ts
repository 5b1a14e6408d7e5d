import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { groupInScope } from '../presence/caller-scope';
import { StatusNoticesOffError } from '../presence/errors';
import { assertGroupAllowed, type GroupPresence as GroupPresenceReader } from '../presence/status-notices/group-presence';
import type { GraphQLContext } from './context';
import { Device } from './device.type';
import { DeviceConnection, GroupPresence } from './group-presence.type';
import { resolveInstanceId } from './instance-id';

const NOTICES_OFF =
  'Which devices of a group are online is known only from the client status notices, and they are off on this deployment (STATUS_NOTICES, STATUS_NOTICES_URL)';

/**
 * Lists and counts of a group, from the presence table (status notices): no upstream call, since
 * the batch action can only be asked about IDs the caller already knows. Scoped like every field:
 * the caller's scope must cover the instance and the group.
 */
@Resolver()
export class GroupPresenceResolver {
  @Query(() => DeviceConnection, {
    description:
      'The devices of a group online now, from the client status notices, in a stable order, `first` at a time (at most MAX_IDS_PER_REQUEST). Refused (STATUS_NOTICES_OFF) where notices are off.',
  })
  async onlineDevices(
    @Arg('groupId', () => String, { description: 'The Group ID, `GID_…` or `GID-…`.' }) groupId: string,
    @Arg('instanceId', () => String, { nullable: true, description: 'The ApsaraMQ for MQTT instance; the configured default instance (MQTT_INSTANCE_ID) when left out.' }) instanceId: string | null,
    @Arg('first', () => Int, { defaultValue: 100, description: 'Devices in this page, at most MAX_IDS_PER_REQUEST.' }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'The `endCursor` of the previous page; left out for the first page.' }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeviceConnection> {
    const { reader, instance } = allowedGroup(ctx, instanceId, groupId);
    const page = await reader.onlinePage(instance, groupId, first, after ?? undefined);
    const connection = new DeviceConnection();
    connection.edges = page.clientIds.map((clientId, i) => ({ cursor: page.cursors[i], node: Device.of(clientId, instance, page.statuses[i]) }));
    connection.pageInfo = { hasNextPage: page.hasNextPage, endCursor: page.endCursor ?? null };
    connection.totalCount = page.totalCount;
    return connection;
  }

  @Query(() => GroupPresence, { description: 'How many devices of a group are online, from the client status notices. Refused (STATUS_NOTICES_OFF) where notices are off.' })
  async groupPresence(
    @Arg('groupId', () => String, { description: 'The Group ID, `GID_…` or `GID-…`.' }) groupId: string,
    @Arg('instanceId', () => String, { nullable: true, description: 'The ApsaraMQ for MQTT instance; the configured default instance (MQTT_INSTANCE_ID) when left out.' }) instanceId: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<GroupPresence> {
    const { reader, instance } = allowedGroup(ctx, instanceId, groupId);
    return Object.assign(new GroupPresence(), await reader.summary(instance, groupId));
  }
}

function allowedGroup(ctx: GraphQLContext, instanceId: string | null, groupId: string): { reader: GroupPresenceReader; instance: string } {
  if (!ctx.groups) throw new StatusNoticesOffError(NOTICES_OFF);
  const instance = resolveInstanceId(instanceId, ctx.defaultInstanceId);
  assertGroupAllowed(groupInScope(ctx.caller.scope, instance, groupId), instance, groupId);
  return { reader: ctx.groups, instance };
}
