/**
 * What judges a Garou trace (harness/engine/types.ts `MonitorSuite`): the
 * profile and the model in monitor mode, without the cases or the probe,
 * so that `wirecheck validate` loads only these (registry.ts
 * `loadMonitorSuite`). The suite (index.ts) is this and the rest.
 */
import type { MonitorSuite } from '../../harness/engine/types.js';
import { GarouModel } from './model.js';
import { checkProfile, defaultProfile, profileSchema, type GarouProfile } from './profile.js';

/** Garou's profile and monitor (SPEC.md v1). */
export const monitorSuite: MonitorSuite<GarouProfile> = {
  name: 'garou',
  specVersion: '1',
  profileSchema,
  defaultProfile,
  checkProfile,
  createMonitor: (p) => new GarouModel(p, 'monitor'),
};
