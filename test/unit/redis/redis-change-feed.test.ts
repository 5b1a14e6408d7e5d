import Redis from 'ioredis';
import type { PresenceChange } from '../../../src/presence/status-notices/presence-table';
import { RedisChangeFeed } from '../../../src/redis/redis-change-feed';
import { capturedLogger, linesSaying } from '../../support/captured-logs';
import { describeWithRedis, REDIS_URL, uniqueKeyPrefix } from '../../support/redis';
import { waitFor } from '../../support/wait-for';

const change = (clientId: string, online: boolean, atMs: number): PresenceChange => ({ key: { instanceId: 'inst', clientId }, online, atMs });

/** Two replicas' feeds on the real Redis, and a plain subscriber counting what goes over the channel. */
describeWithRedis('RedisChangeFeed', ['redis'], () => {
  const connections: Redis[] = [];
  const feeds: RedisChangeFeed[] = [];
  const connect = async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true });
    connections.push(redis);
    await redis.connect();
    return redis;
  };
  afterEach(async () => {
    await Promise.all(feeds.splice(0).map((feed) => feed.close()));
    await Promise.all(connections.splice(0).map((redis) => redis.quit()));
  });

  async function replicas(prefix: string) {
    // The receiving replica's log only (the publishing one hears every message too).
    const { logger, lines } = capturedLogger();
    const publisher = new RedisChangeFeed(await connect(), prefix, capturedLogger().logger);
    const receiver = new RedisChangeFeed(await connect(), prefix, logger);
    feeds.push(publisher, receiver);
    await Promise.all([publisher.ready, receiver.ready]);
    const heard: PresenceChange[] = [];
    receiver.subscribe((heardChange) => heard.push(heardChange));
    const wire = await connect();
    const messages: string[] = [];
    wire.on('message', (_channel: string, message: string) => messages.push(message));
    await wire.subscribe(`${prefix}presence-changes`);
    return { publisher, heard, messages, lines };
  }

  it('publishes the changes of one I/O event as one message, and every replica hears each change in order', async () => {
    const { publisher, heard, messages } = await replicas(uniqueKeyPrefix('feed'));
    const published = [change('GID_a@@@d1', true, 1000), change('GID_a@@@d2', false, 2000), change('GID_b@@@d1', true, 3000)];
    await Promise.all(published.map((each) => publisher.publish(each)));
    await waitFor('the three changes at the other replica', () => heard.length === 3);
    expect(heard).toEqual(published);
    expect(messages).toHaveLength(1);
  });

  it('understands a message holding one change as an object (what replicas before the batched form publish)', async () => {
    const prefix = uniqueKeyPrefix('feed');
    const { heard } = await replicas(prefix);
    await connections[0].publish(`${prefix}presence-changes`, JSON.stringify(change('GID_a@@@old', true, 500)));
    await waitFor('the single change', () => heard.length === 1);
    expect(heard).toEqual([change('GID_a@@@old', true, 500)]);
  });

  it('ignores a message that is not a change with a warning, and the malformed entries of a batch', async () => {
    const prefix = uniqueKeyPrefix('feed');
    const { heard, lines } = await replicas(prefix);
    const channel = `${prefix}presence-changes`;
    await connections[0].publish(channel, 'not json');
    await connections[0].publish(channel, JSON.stringify([['inst', 'GID_a@@@d1', 'yes', 1], { key: 'x' }, ['inst', 'GID_a@@@good', true, 7]]));
    await waitFor('the good entry', () => heard.length === 1);
    expect(heard).toEqual([change('GID_a@@@good', true, 7)]);
    expect(linesSaying(lines, 'not a change')).toHaveLength(1);
  });
});
