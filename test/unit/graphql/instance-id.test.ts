import { resolveInstanceId } from '../../../src/graphql/instance-id';
import { InvalidInputError } from '../../../src/presence/errors';

describe('resolveInstanceId', () => {
  it('answers the instance named, else the default', () => {
    expect(resolveInstanceId('mqtt-cn-a', 'mqtt-cn-default')).toBe('mqtt-cn-a');
    expect(resolveInstanceId(undefined, 'mqtt-cn-default')).toBe('mqtt-cn-default');
    expect(resolveInstanceId(null, 'mqtt-cn-default')).toBe('mqtt-cn-default');
  });

  it('says an empty instanceId is empty, not that the service has no default instance, when it has one', () => {
    const thrown = () => resolveInstanceId('', 'mqtt-cn-default');
    expect(thrown).toThrow(InvalidInputError);
    expect(thrown).toThrow(/instanceId is empty/);
    expect(thrown).not.toThrow(/no default instance/);
  });

  it('says there is no default instance only when MQTT_INSTANCE_ID is not set and none is named', () => {
    expect(() => resolveInstanceId(undefined, undefined)).toThrow(/no default instance \(MQTT_INSTANCE_ID is not set\)/);
  });
});
