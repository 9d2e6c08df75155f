/**
 * Throw-away TLS identities for reference servers and tests: a self-signed
 * ECDSA P-256 certificate made in-process (about 5 ms, NOTES.md), without
 * shelling out to openssl.
 */
import 'reflect-metadata';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

/** Options of {@link generateSelfSigned}. */
export interface SelfSignedOptions {
  /** Subject and issuer common name (CN). Default `'localhost'`. */
  readonly commonName?: string;
  /**
   * Subject alternative names (RFC 5280 §4.2.1.6). Each entry is `DNS:name`,
   * `IP:address` (IPv4 or IPv6 literal), or a bare value whose kind is
   * guessed (an IP literal becomes an IP SAN, anything else a DNS SAN).
   * Default `['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']`.
   */
  readonly altNames?: readonly string[];
  /** Validity in days from now (a positive number, fractions allowed). Default 365. */
  readonly days?: number;
}

/** A generated identity, all strings. */
export interface SelfSignedIdentity {
  /** The certificate, PEM (`-----BEGIN CERTIFICATE-----`). */
  readonly certPem: string;
  /** The private key, PKCS #8 PEM (`-----BEGIN PRIVATE KEY-----`), unencrypted. */
  readonly keyPem: string;
  /** SHA-256 of the certificate's DER encoding, lower-case hex without separators (for pinning). */
  readonly sha256: string;
}

/** Default subject alternative names: the loopback names a local client may use. */
export const DEFAULT_ALT_NAMES: readonly string[] = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];

/** How far `notBefore` is set in the past, to tolerate clock skew between hosts (ms). */
const BACKDATE_MS = 60 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

/** The WebCrypto provider type @peculiar/x509 expects (DOM `Crypto`, absent from our `lib`). */
type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1]>;
/** The key pair type @peculiar/x509 expects (DOM `CryptoKeyPair`). */
type X509KeyPair = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];

/**
 * Parses one SAN spec (`DNS:x`, `IP:x` or a bare value) into the library's form.
 * @throws RangeError on an empty name or an `IP:` value that is not an IP literal.
 */
function parseAltName(spec: string): x509.JsonGeneralName {
  const m = /^(dns|ip):(.*)$/i.exec(spec);
  if (m) {
    const kind = m[1]!.toLowerCase();
    const value = m[2]!;
    if (value.length === 0) throw new RangeError(`generateSelfSigned: empty alt name in ${JSON.stringify(spec)}`);
    if (kind === 'ip') {
      if (isIP(value) === 0) {
        throw new RangeError(`generateSelfSigned: not an IP literal in ${JSON.stringify(spec)}`);
      }
      return { type: 'ip', value };
    }
    return { type: 'dns', value };
  }
  if (spec.length === 0) throw new RangeError('generateSelfSigned: empty alt name');
  return isIP(spec) !== 0 ? { type: 'ip', value: spec } : { type: 'dns', value: spec };
}

/**
 * Generates a self-signed ECDSA P-256 / SHA-256 certificate and its key.
 *
 * The certificate is an end-entity certificate (basicConstraints cA=false,
 * extendedKeyUsage serverAuth + clientAuth, subjectKeyIdentifier, SANs) with
 * a random positive 128-bit serial; `notBefore` is one hour in the past. It
 * can serve as its own trust anchor (pass `certPem` as a QUIC client's `ca`
 * with `verifyPeer: true`) or be pinned by `sha256`.
 *
 * It has no keyUsage extension on purpose: BoringSSL (inside quiche) accepts
 * a self-signed trust anchor only if its keyUsage, when present, includes
 * keyCertSign (else TLS alert unknown_ca, QUIC error 0x130), and RFC 5280
 * §4.2.1.3 allows keyCertSign only with cA=true, which rustls/webpki reject
 * for a server certificate.
 *
 * @throws RangeError when `days` is not a positive finite number or an alt name is malformed.
 */
export async function generateSelfSigned(opts: SelfSignedOptions = {}): Promise<SelfSignedIdentity> {
  const commonName = opts.commonName ?? 'localhost';
  const days = opts.days ?? 365;
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0) {
    throw new RangeError(`generateSelfSigned: days must be a positive number, got ${String(days)}`);
  }
  const altNames = (opts.altNames ?? DEFAULT_ALT_NAMES).map(parseAltName);

  const crypto = webcrypto as unknown as X509Crypto;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as X509KeyPair;

  // Positive serial (RFC 5280 §4.1.2.2): clear the top bit, avoid a leading zero byte.
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;

  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));

  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: [{ CN: [commonName] }],
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + Math.round(days * DAY_MS)),
      signingAlgorithm: alg,
      keys,
      extensions,
    },
    crypto,
  );

  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  const certPem = cert.toString('pem');
  const sha256 = createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex');
  return { certPem: ensureNewline(certPem), keyPem: ensureNewline(keyPem), sha256 };
}

function ensureNewline(pem: string): string {
  const normalized = pem.replace(/\r\n/g, '\n');
  return normalized.endsWith('\n') ? normalized : `${normalized}\n`;
}
