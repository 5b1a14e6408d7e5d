import type { GraphQLRequestContext, GraphQLRequestListener, GraphQLResponse } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type { GraphQLContext } from '../../../../src/graphql/context';
import { requestListenersPlugin, type RequestHooks } from '../../../../src/server/http/request-listeners.plugin';

type AnyContext = never;
const listenerOf = async (hooks: RequestHooks[]): Promise<GraphQLRequestListener<GraphQLContext>> => {
  const listener = await requestListenersPlugin(hooks).requestDidStart?.({} as GraphQLRequestContext<GraphQLContext>);
  if (!listener) throw new Error('expected a listener');
  return listener;
};
const answer = (name: string): GraphQLResponse => ({ http: { headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data: { name } } } });

describe('requestListenersPlugin: several plugins\' hooks as one listener', () => {
  it('hands Apollo the same listener on every request, with only the hooks some plugin defines', async () => {
    const hooks: RequestHooks[] = [{ async willSendResponse() {} }, { async didResolveOperation() {} }];
    const first = await listenerOf(hooks);
    expect(Object.keys(first).sort()).toEqual(['didResolveOperation', 'willSendResponse']);
    const plugin = requestListenersPlugin(hooks);
    const context = {} as GraphQLRequestContext<GraphQLContext>;
    expect(await plugin.requestDidStart?.(context)).toBe(await plugin.requestDidStart?.(context));
  });

  it('runs every plugin\'s hook of a kind, all started before any is awaited, as Apollo\'s Promise.all does', async () => {
    const order: string[] = [];
    const hook = (name: string) => async () => {
      order.push(`${name} started`);
      await Promise.resolve();
      order.push(`${name} ended`);
    };
    const listener = await listenerOf([{ didResolveOperation: hook('a') }, { willSendResponse: hook('x') }, { didResolveOperation: hook('b') }]);
    await listener.didResolveOperation?.({} as AnyContext);
    expect(order).toEqual(['a started', 'b started', 'a ended', 'b ended']);
  });

  it('refuses the operation with the first plugin\'s error when a hook throws', async () => {
    const listener = await listenerOf([
      { async didResolveOperation() {} },
      { async didResolveOperation() { throw new Error('over the limit'); } },
      { async didResolveOperation() { throw new Error('later'); } },
    ]);
    await expect(listener.didResolveOperation?.({} as AnyContext)).rejects.toThrow('over the limit');
  });

  it('asks for a response in order and stops at the first plugin that gives one', async () => {
    const asked: string[] = [];
    const listener = await listenerOf([
      { async responseForOperation() { asked.push('none'); return null; } },
      { async responseForOperation() { asked.push('compiled'); return answer('compiled'); } },
      { async responseForOperation() { asked.push('never'); return answer('never'); } },
    ]);
    expect(await listener.responseForOperation?.({} as AnyContext)).toEqual(answer('compiled'));
    expect(asked).toEqual(['none', 'compiled']);
  });
});
