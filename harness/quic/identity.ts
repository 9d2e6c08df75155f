/**
 * The certificate identity check for a QUIC client that sends no SNI
 * (RFC 6066 §3 forbids IP literals there): quiche verifies the chain but
 * checks the name only against the SNI it sent, so with none the name or IP
 * connected to is checked here (RFC 6125; RFC 5280 §4.2.1.6 for IP SANs).
 */
import { X509Certificate } from 'node:crypto';
import { isIpLiteral } from './util.js';

/**
 * True when the leaf certificate `der` (DER bytes; undefined when the peer
 * sent none) covers `name`, a DNS name or an IP literal.
 */
export function certificateCovers(der: Uint8Array | undefined, name: string): boolean {
  if (der === undefined) return false;
  try {
    const cert = new X509Certificate(Buffer.from(der));
    return isIpLiteral(name) ? cert.checkIP(name) !== undefined : cert.checkHost(name) !== undefined;
  } catch {
    return false; // not a parsable certificate
  }
}
