import { freeClientIds } from '../../../src/local/device-simulator';
import { DEMO_DEVICES, numberedClientIds, SIMULATOR_DEFAULTS } from '../../../src/local/device-simulator-defaults';
import { loadLocalInstanceConfig } from '../../../src/config';

describe('the simulator\'s defaults and the demo devices', () => {
  it('default to IDs apart from the demo devices\' (GraphiQL\'s subscription tab watches both)', () => {
    const simulated = numberedClientIds(SIMULATOR_DEFAULTS.groupId, SIMULATOR_DEFAULTS.prefix, SIMULATOR_DEFAULTS.count);
    const demo = numberedClientIds(DEMO_DEVICES.groupId, DEMO_DEVICES.prefix, DEMO_DEVICES.count);
    expect(simulated).toEqual(['GID_demo@@@sim-1', 'GID_demo@@@sim-2', 'GID_demo@@@sim-3']);
    expect(demo).toEqual(['GID_demo@@@device-1', 'GID_demo@@@device-2', 'GID_demo@@@device-3']);
  });

  it('count as many demo devices as the local instance starts by default (LOCAL_DEMO_DEVICES)', () => {
    expect(loadLocalInstanceConfig({}).demoDevices).toBe(DEMO_DEVICES.count);
  });

  it('renames past the taken IDs, keeping the count', () => {
    expect(freeClientIds('GID_demo', 'device-', 3, new Set(['GID_demo@@@device-1', 'GID_demo@@@device-3']))).toEqual([
      'GID_demo@@@device-2',
      'GID_demo@@@device-4',
      'GID_demo@@@device-5',
    ]);
  });
});
