/**
 * QUIC DATAGRAMs (RFC 9221) of one client connection: what was sent and
 * received, recorded as `dgram` trace events through the connection, over
 * the library's native connection (internals.ts: @matrixai/quic has no
 * public DATAGRAM API).
 */
import type { QUICConnection } from '@matrixai/quic';
import { toHex, type DatagramEvent } from '../engine/trace.js';
import { DriverError } from '../drivers/types.js';
import { errorMessage } from '../engine/util.js';
import { dgramMaxSize, dgramSend, tapDatagrams } from './internals.js';
import type { StreamOwner } from './stream.js';

/** The datagram side of a connection; inert unless `offered` (ConnectOptions.datagrams). */
export class DatagramChannel {
  private readonly rx: Uint8Array[] = [];

  constructor(
    private readonly owner: StreamOwner,
    /** DATAGRAM support was advertised by us (RFC 9221 §3). */
    readonly offered: boolean,
  ) {}

  /** Starts receiving on `qc` (datagrams queued during the handshake first). */
  attach(qc: QUICConnection): void {
    if (this.offered) tapDatagrams(qc, (payload) => this.onReceive(payload), (err) => this.owner.note(`datagram receive error: ${errorMessage(err)}`));
  }

  /** Largest payload (bytes) the peer accepts; undefined when not negotiated or closed. */
  get maxSize(): number | undefined {
    return this.offered && !this.owner.isClosed ? dgramMaxSize(this.owner.connection) : undefined;
  }

  /** Payloads received so far, in arrival order (copies). */
  received(): Uint8Array[] {
    return this.rx.map((d) => Uint8Array.from(d));
  }

  /**
   * Sends one DATAGRAM, recorded as `dgram` c2s first. A full send queue
   * drops it (a note says so), as the network may.
   * @throws DriverError when datagrams were not negotiated (by us or the
   *   peer), `bytes` exceed {@link maxSize}, or the connection is closed.
   */
  send(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new DriverError('sendDatagram: bytes must be a Uint8Array');
    if (this.owner.isClosed) throw new DriverError('sendDatagram: connection closed');
    if (!this.offered) throw new DriverError('sendDatagram: datagrams were not requested for this connection (ConnectOptions.datagrams)');
    const max = this.maxSize;
    if (max === undefined) throw new DriverError('sendDatagram: the server did not advertise DATAGRAM support (RFC 9221 §3)');
    if (bytes.byteLength > max) {
      throw new DriverError(`sendDatagram: ${String(bytes.byteLength)} bytes exceed the largest datagram payload, ${String(max)} bytes`);
    }
    const copy = Uint8Array.from(bytes);
    this.owner.emit<DatagramEvent>({ type: 'dgram', conn: this.owner.conn, dir: 'c2s', hex: toHex(copy) });
    const outcome = dgramSend(this.owner.connection, copy);
    if (outcome !== 'sent') this.owner.note(`datagram of ${String(copy.byteLength)} bytes not sent: ${outcome}`);
  }

  private onReceive(payload: Uint8Array): void {
    if (this.owner.isClosed) return;
    const copy = Uint8Array.from(payload);
    this.rx.push(copy);
    this.owner.emit<DatagramEvent>({ type: 'dgram', conn: this.owner.conn, dir: 's2c', hex: toHex(copy) });
  }
}
