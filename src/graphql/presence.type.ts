import { Field, GraphQLISODateTime, ObjectType, registerEnumType } from 'type-graphql';
import type { PresenceStatus } from '../presence/types';

/** Where an online status came from, so a client can judge how much to trust it. */
export enum PresenceSource {
  /** BatchQuerySessionByClientIds just now (served from Alibaba's internal cache: may lag). */
  BATCH = 'BATCH',
  /** QuerySessionByClientId just now: exact. */
  EXACT = 'EXACT',
  /** This service's cache, younger than PRESENCE_CACHE_TTL_MS. */
  CACHE = 'CACHE',
  /** The last known status, served because the upstream is failing (PRESENCE_STALE_IF_ERROR_MS). */
  STALE = 'STALE',
  /**
   * The client status notices (connect, disconnect, tcpclean) decide it, with no upstream call:
   * `checkedAt` is when the notice (or the batch answer the table was seeded from) was stamped, and
   * no notice since has changed it.
   */
  EVENTS = 'EVENTS',
}

registerEnumType(PresenceSource, {
  name: 'PresenceSource',
  description: 'Where an online status came from.',
  valuesConfig: {
    BATCH: { description: 'BatchQuerySessionByClientIds just now (served from Alibaba Cloud\'s internal cache: may lag).' },
    EXACT: { description: 'QuerySessionByClientId just now: exact.' },
    CACHE: { description: 'This service\'s cache, younger than PRESENCE_CACHE_TTL_MS.' },
    STALE: { description: 'The last known status, served because the upstream is failing (PRESENCE_STALE_IF_ERROR_MS).' },
    EVENTS: {
      description:
        'Decided by events, with no upstream call: the client status notices (connect, disconnect, tcpclean), or the local instance\'s broker. `checkedAt` is when the event (or the batch answer the table was seeded from) was stamped.',
    },
  },
});

// simpleResolvers: plain fields, read without a type-graphql wrapper per field (see device.type.ts).
@ObjectType({ description: 'An online status with its freshness.', simpleResolvers: true })
export class Presence {
  @Field(() => Boolean, { description: 'Whether the device had a live MQTT session when checked.' })
  online!: boolean;

  @Field(() => GraphQLISODateTime, {
    description:
      'When this service asked the upstream (the call was sent): the status is no older than that. For source EVENTS, when the notice that decided it was stamped.',
  })
  checkedAt!: Date;

  @Field(() => Boolean, { description: 'True when the upstream is failing and this is the last known status.' })
  stale!: boolean;

  @Field(() => PresenceSource, { description: 'Where this status came from, to judge how much to trust it.' })
  source!: PresenceSource;

  static of(status: PresenceStatus, exact: boolean): Presence {
    const presence = new Presence();
    presence.online = status.online;
    presence.checkedAt = new Date(status.checkedAtMs);
    presence.stale = status.stale;
    presence.source = SOURCE_OF_ORIGIN[status.origin] ?? (exact ? PresenceSource.EXACT : PresenceSource.BATCH);
    return presence;
  }
}

const SOURCE_OF_ORIGIN: Record<PresenceStatus['origin'], PresenceSource | undefined> = {
  upstream: undefined,
  cache: PresenceSource.CACHE,
  stale: PresenceSource.STALE,
  events: PresenceSource.EVENTS,
};
