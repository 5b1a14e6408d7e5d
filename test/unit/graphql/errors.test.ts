import { GraphQLError, parse, type FieldNode, type GraphQLResolveInfo, type OperationDefinitionNode } from 'graphql';
import { throwAtField } from '../../../src/graphql/errors';
import { InvalidInputError } from '../../../src/presence/errors';

/** What graphql-js hands a resolver for `devices[3].online`: the field's nodes and its path. */
function infoAt(): GraphQLResolveInfo {
  const operation = parse('{ devices(clientIds: ["x"]) { online } }').definitions[0] as OperationDefinitionNode;
  const devices = operation.selectionSet.selections[0] as FieldNode;
  const online = devices.selectionSet!.selections[0] as FieldNode;
  const path = { prev: { prev: { prev: undefined, key: 'devices', typename: 'Query' }, key: 3, typename: undefined }, key: 'online', typename: 'Device' };
  return { fieldNodes: [online], path } as unknown as GraphQLResolveInfo;
}

function thrownBy(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

describe('throwAtField', () => {
  it('throws a presence error already placed at its field, as graphql-js would place it, without stack frames', () => {
    const original = new InvalidInputError('Client ID "x" must have the form <GroupID>@@@<DeviceID>');
    const thrown = thrownBy(() => throwAtField(original, infoAt()));
    expect(thrown).toBeInstanceOf(GraphQLError);
    const located = thrown as GraphQLError;
    expect(located.path).toEqual(['devices', 3, 'online']);
    expect(located.locations).toEqual([{ line: 1, column: 31 }]);
    expect(located.originalError).toBe(original);
    expect(located.message).toBe(original.message);
    expect(located.stack).not.toMatch(/\n\s+at /);
  });

  it('rethrows anything else untouched, so an unexpected error keeps the stack an operator needs', () => {
    const bug = new TypeError('a bug');
    expect(thrownBy(() => throwAtField(bug, infoAt()))).toBe(bug);
    expect(bug.stack).toMatch(/\n\s+at /);
  });
});
