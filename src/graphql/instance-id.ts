import { InvalidInputError } from '../presence/errors';

/** The instance a field asks about: the one it names, else the configured default. */
export function resolveInstanceId(asked: string | null | undefined, defaultInstanceId: string | undefined): string {
  const instanceId = asked ?? defaultInstanceId;
  if (!instanceId) {
    throw new InvalidInputError('instanceId is required: this service has no default instance (MQTT_INSTANCE_ID is not set)');
  }
  return instanceId;
}
