/** Proton's `run`, `fuzz` and `client` against the hostile QUIC server's modes 1–5 (test/cli/_hostile-quic.ts). */
import t from 'tap';
import { HOSTILE_QUIC_MODES } from '../hostile/quic-server.js';
import { hostileQuicProtonTests } from './_hostile-quic.js';

await hostileQuicProtonTests(t, HOSTILE_QUIC_MODES.slice(0, 5));
