import { Field, GraphQLISODateTime, ObjectType } from 'type-graphql';
import type { PresenceChange as WatchedChange } from '../presence/presence-watch';
import { Device } from './device.type';

@ObjectType({ description: 'A device\'s online status as `presenceChanged` reports it: first the current status, then each change.' })
export class PresenceChange {
  @Field(() => Device, { description: 'The device. Its own `online` would be a new lookup: read `online` here instead.' })
  device!: Device;

  @Field(() => Boolean, { description: 'Whether the device has a live MQTT session.' })
  online!: boolean;

  @Field(() => GraphQLISODateTime, {
    description:
      'When this status was seen: the broker\'s connect or disconnect (local instance), or the poll that found it (Alibaba Cloud, within SUBSCRIPTION_POLL_INTERVAL_MS plus the upstream\'s own lag).',
  })
  at!: Date;

  @Field(() => Boolean, { description: 'True for the current status sent when the subscription starts; false for a change after it.' })
  initial!: boolean;

  static of(change: WatchedChange): PresenceChange {
    return Object.assign(new PresenceChange(), {
      device: Device.of(change.key.clientId, change.key.instanceId),
      online: change.online,
      at: change.at,
      initial: change.initial,
    });
  }
}
