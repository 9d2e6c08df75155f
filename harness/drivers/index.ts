/**
 * Picks the transport driver for a target.
 */
import type { Driver } from './types.js';
import { quicDriver } from './quic.js';
import { UsageError } from '../engine/errors.js';

/**
 * The driver for a transport.
 * @throws UsageError for a transport without a driver yet.
 */
export function driverFor(transport: 'quic' | 'tcp'): Driver {
  if (transport === 'quic') return quicDriver;
  throw new UsageError(`no ${transport} driver yet: only quic:// targets are supported in this version`);
}
