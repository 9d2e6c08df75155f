/**
 * What judges a Moonpool trace (harness/engine/types.ts `MonitorSuite`):
 * the profile and the monitor, without the cases, the probe or discovery,
 * so that `wirecheck validate` loads only these (registry.ts
 * `loadMonitorSuite`). The suite (index.ts) is this and the rest.
 */
import type { MonitorSuite } from '../../harness/engine/types.js';
import { createMoonpoolMonitor } from './monitor.js';
import { checkProfile, defaultProfile, profileSchema, type MoonpoolProfile } from './profile.js';

/** Moonpool's profile and monitor (SPEC.md v1). */
export const monitorSuite: MonitorSuite<MoonpoolProfile> = {
  name: 'moonpool',
  specVersion: '1',
  profileSchema,
  defaultProfile,
  checkProfile,
  createMonitor: createMoonpoolMonitor,
};
