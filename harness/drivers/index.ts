/**
 * Picks the transport driver for a target.
 */
import type { Driver } from './types.js';
import { quicDriver } from './quic.js';
import { tcpDriver } from './tcp.js';

/** The driver for a transport: `quic` (drivers/quic.ts) or `tcp` (drivers/tcp.ts, one stream, id 0). */
export function driverFor(transport: 'quic' | 'tcp'): Driver {
  return transport === 'quic' ? quicDriver : tcpDriver;
}
