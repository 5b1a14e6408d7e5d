import { ConfigError, deepFreeze, flag, fraction, integer, jsonValue, oneOf, text, url } from '../../../src/config/env';

describe('config/env: how one variable becomes a value', () => {
  it('treats an unset, empty or blank variable as unset, and trims the rest', () => {
    expect(text({}, 'A')).toBeUndefined();
    expect(text({ A: '   ' }, 'A')).toBeUndefined();
    expect(text({ A: ' x ' }, 'A')).toBe('x');
  });

  it('reads whole numbers in a range, naming the variable, the range and the value when it is not one', () => {
    expect(integer({}, 'N', 7, 0, 10)).toBe(7);
    expect(integer({ N: '10' }, 'N', 7, 0, 10)).toBe(10);
    for (const bad of ['11', '-1', '1.5', 'ten']) {
      expect(() => integer({ N: bad }, 'N', 7, 0, 10)).toThrow(new ConfigError(`N must be a whole number from 0 to 10; got ${JSON.stringify(bad)}`));
    }
  });

  it('reads flags as true/1 or false/0 only', () => {
    expect(flag({ F: 'TRUE' }, 'F', false)).toBe(true);
    expect(flag({ F: '0' }, 'F', true)).toBe(false);
    expect(() => flag({ F: 'yes' }, 'F', false)).toThrow('F must be true or false; got "yes"');
  });

  it('reads a share as more than 0 and at most 1', () => {
    expect(fraction({ S: '0.5' }, 'S', 0.2)).toBe(0.5);
    expect(() => fraction({ S: '0' }, 'S', 0.2)).toThrow(/S must be a number more than 0 and at most 1/);
  });

  it('reads one of a fixed set of words', () => {
    expect(oneOf({ M: 'b' }, 'M', ['a', 'b'] as const, 'a')).toBe('b');
    expect(() => oneOf({ M: 'c' }, 'M', ['a', 'b'] as const, 'a')).toThrow('M must be one of a, b; got "c"');
  });

  it('reads http and https URLs only, showing an example of one', () => {
    expect(url({ U: 'https://x.example' }, 'U', 'https://e.example')).toBe('https://x.example');
    expect(() => url({ U: 'x' }, 'U', 'https://e.example')).toThrow('U must be a URL such as https://e.example; got "x"');
    expect(() => url({ U: 'ftp://x' }, 'U', 'https://e.example')).toThrow('U must use http or https');
  });

  it('never repeats malformed JSON back, since it may hold a secret', () => {
    expect(() => jsonValue('KEYS', '{"secret": hunter2')).toThrow(new ConfigError('KEYS is not valid JSON'));
  });

  it('freezes a value all the way down', () => {
    const frozen = deepFreeze({ a: { b: [1] } });
    expect(Object.isFrozen(frozen.a.b)).toBe(true);
  });
});
