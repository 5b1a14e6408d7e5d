import { ConnectionOperations } from '../../../../src/server/ws/connection-operations';

describe('ConnectionOperations: what MAX_SUBSCRIPTIONS_PER_CONNECTION counts', () => {
  it('counts what graphql-ws holds, plus accepted operations it let go whose execution still runs', () => {
    const operations = new ConnectionOperations();
    const [a, b] = [{}, {}];
    operations.started('1', a, 'execution');
    operations.started('2', b, 'execution');
    expect(operations.count({ 1: null, 2: null, 3: null }, '3')).toBe(3);
    // The client completed both; their executions go on.
    expect(operations.count({ 3: null }, '3')).toBe(3);
    operations.ended('1', a);
    expect(operations.count({ 3: null }, '3')).toBe(2);
    operations.ended('2', b);
    expect(operations.count({ 3: null }, '3')).toBe(1);
  });

  it('counts an operation let go once, even when the client reuses its id for another', () => {
    const operations = new ConnectionOperations();
    const [first, second] = [{}, {}];
    operations.started('7', first, 'execution');
    // `complete` for 7, then a new operation under the same id: graphql-ws holds it when it is counted…
    expect(operations.count({ 7: null }, '7')).toBe(2);
    // …and once accepted.
    operations.started('7', second, 'stream');
    expect(operations.count({ 7: {}, 8: null }, '8')).toBe(3);
    operations.ended('7', second);
    expect(operations.count({ 8: null }, '8')).toBe(2);
    operations.ended('7', first);
    expect(operations.count({ 8: null }, '8')).toBe(1);
  });

  it('counts a subscription only while graphql-ws holds it: completing it stops its stream', () => {
    const operations = new ConnectionOperations();
    operations.started('1', {}, 'stream');
    expect(operations.count({ 1: {}, 2: null }, '2')).toBe(2);
    expect(operations.count({ 2: null }, '2')).toBe(1);
  });

  it('ignores the end of an operation it never saw start (refused ones)', () => {
    const operations = new ConnectionOperations();
    const kept = {};
    operations.started('1', kept, 'execution');
    operations.ended('1', {});
    expect(operations.count({ 1: null, 2: null }, '2')).toBe(2);
  });
});
