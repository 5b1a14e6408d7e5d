import { STATUS_NOTICE_VHOST } from '../upstream/status-notices/amqp-login';

/** The URL with its vhost forced to MQTT, and the same without credentials for logs. */
export function vhostUrls(url: string): { connectionUrl: string; loggableUrl: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Never echo the URL: it may hold the password.
    throw new TypeError('url must be an absolute amqp:// or amqps:// URL');
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new TypeError(`url must use amqp: or amqps:; got ${parsed.protocol}`);
  }
  const vhost = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (vhost !== '' && vhost !== STATUS_NOTICE_VHOST) {
    throw new TypeError(`url selects the virtual host ${JSON.stringify(vhost)}; status notices always go to ${STATUS_NOTICE_VHOST}, as in the cloud: leave the path empty or use /${STATUS_NOTICE_VHOST}`);
  }
  parsed.pathname = `/${STATUS_NOTICE_VHOST}`;
  const connectionUrl = parsed.href;
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  return { connectionUrl, loggableUrl: parsed.href };
}
