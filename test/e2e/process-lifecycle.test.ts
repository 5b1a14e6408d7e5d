import { LOCAL_DEFAULTS } from '../../src/config';
import { postGraphQL } from '../support/graphql-client';
import { readyUrl, startMain } from '../support/main-process';

describe('the service process', () => {
  it('starts with no configuration on the local instance, answers, and drains and exits 0 on SIGTERM', async () => {
    const main = startMain({});
    try {
      const url = await readyUrl(main);
      const response = await postGraphQL(url, '{ devices(clientIds: ["GID_demo@@@device-1", "GID_demo@@@device-9"]) { online(exact: true) } }');
      expect(response.data).toEqual({ devices: [{ online: true }, { online: false }] });

      main.child.kill('SIGTERM');
      expect(await main.exited).toBe(0);
      expect(main.output()).toMatch(/"msg":"stopped"/);
      expect(main.output()).not.toContain(LOCAL_DEFAULTS.accessKeySecret);
    } finally {
      main.child.kill('SIGKILL');
    }
  });

  it('refuses to start on a bad setting with a message naming it, and exit code 2', async () => {
    const main = startMain({ UPSTREAM_BATCH_QPS: 'lots' });
    expect(await main.exited).toBe(2);
    expect(main.output()).toContain('UPSTREAM_BATCH_QPS must be a whole number from 1 to 100000; got "lots"');
  });
});
