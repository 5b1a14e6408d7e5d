import { InvalidInputError } from '../presence/errors';

/** The instance a field asks about: the one it names, else the configured default. */
export function resolveInstanceId(asked: string | null | undefined, defaultInstanceId: string | undefined): string {
  // An empty string is a mistake in the query, not a request for the default: said as such, since
  // "no default instance" was wrong (and misleading) on a service that has one.
  if (asked === '') throw new InvalidInputError('instanceId is empty: name an ApsaraMQ for MQTT instance, or leave instanceId out for the default one');
  const instanceId = asked ?? defaultInstanceId;
  if (!instanceId) {
    throw new InvalidInputError('instanceId is required: this service has no default instance (MQTT_INSTANCE_ID is not set)');
  }
  return instanceId;
}
