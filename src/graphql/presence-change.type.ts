import { Field, GraphQLISODateTime, ObjectType } from 'type-graphql';
import type { PresenceChange as WatchedChange } from '../presence/presence-watch';
import { Device } from './device.type';

@ObjectType({ description: 'A device\'s online status as `presenceChanged` reports it: first the current status, then each change.' })
export class PresenceChange {
  @Field(() => Device, {
    description:
      'The device, carrying this event\'s status: its `online` and `presence` (without `exact`) answer from the event itself, with no lookup, so a client cache that keys devices by `id` keeps each device right from the events alone. `online(exact: true)` still asks QuerySessionByClientId.',
  })
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
    // The device knows the event's status (device.resolver.ts answers from `known` unless exact): the
    // same status as the event's `online`, never a second, lagging lookup that could contradict it.
    const known = { online: change.online, checkedAtMs: change.at.getTime(), stale: change.origin === 'stale', origin: change.origin };
    return Object.assign(new PresenceChange(), {
      device: Device.of(change.key.clientId, change.key.instanceId, known),
      online: change.online,
      at: change.at,
      initial: change.initial,
    });
  }
}
