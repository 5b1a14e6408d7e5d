/**
 * The urql app's page: a list of devices with their status, live. Configured by its URL:
 * `index.html?api=http://localhost:4000/graphql&ids=GID_demo@@@device-1,GID_demo@@@device-2`
 * (the page's origin must be in the service's CORS_ORIGINS). Bundled by esbuild; no CDN.
 */
import { followFleet } from './fleet';

const params = new URLSearchParams(location.search);
const api = params.get('api') ?? 'http://localhost:4000/graphql';
const ids = (params.get('ids') ?? 'GID_demo@@@device-1,GID_demo@@@device-2,GID_demo@@@device-3').split(',').filter(Boolean);
const apiKey = params.get('key');

const list = document.getElementById('devices') as HTMLUListElement;
const status = document.getElementById('status') as HTMLParagraphElement;

followFleet({
  url: api,
  clientIds: ids,
  headers: apiKey ? { 'X-API-Key': apiKey } : undefined,
  onList(devices) {
    list.replaceChildren(
      ...devices.map((device) => {
        const item = document.createElement('li');
        item.dataset.clientId = device.clientId;
        item.dataset.online = String(device.online === true);
        item.textContent = `${device.clientId}: ${device.online ? 'online' : 'offline'}`;
        return item;
      }),
    );
    status.textContent = 'live';
  },
  onError(error) {
    status.textContent = `error: ${error.message}`;
  },
});
