import t from 'tap';
import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { generateSelfSigned } from '../../harness/tls/cert.js';

t.test('default identity: P-256, SANs, validity, key matches', async (t) => {
  const before = Date.now();
  const id = await generateSelfSigned();
  const after = Date.now();
  t.match(id.certPem, /^-----BEGIN CERTIFICATE-----\n/);
  t.match(id.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  t.match(id.sha256, /^[0-9a-f]{64}$/);

  const cert = new X509Certificate(id.certPem);
  t.equal(cert.subject, 'CN=localhost');
  t.equal(cert.issuer, 'CN=localhost');
  t.equal(cert.fingerprint256.replace(/:/g, '').toLowerCase(), id.sha256);
  t.equal(cert.ca, false);

  const sans = (cert.subjectAltName ?? '').split(', ').sort();
  t.same(sans, ['DNS:localhost', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1'].sort());
  t.equal(cert.checkHost('localhost'), 'localhost');
  t.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  t.equal(cert.checkIP('::1'), '::1');

  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  t.ok(from <= before, 'valid from the past');
  // 365 days from the moment of generation, which lies between `before` and `after` (X.509 times are whole seconds).
  t.ok(to >= before - 1000 + 365 * 86_400_000 && to <= after + 365 * 86_400_000, `365 days from generation (${(to - before) / 86_400_000} days)`);

  const key = createPrivateKey(id.keyPem);
  t.equal(key.asymmetricKeyType, 'ec');
  t.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  t.ok(cert.checkPrivateKey(key), 'private key matches certificate');
  t.ok(cert.verify(createPublicKey(id.certPem)), 'self-signature verifies');
  const msg = Buffer.from('wirecheck');
  t.ok(verify('sha256', msg, cert.publicKey, sign('sha256', msg, key)), 'sign/verify round trip');
});

t.test('custom name, SANs and days', async (t) => {
  const before = Date.now();
  const id = await generateSelfSigned({
    commonName: 'proton.test, with comma',
    altNames: ['DNS:proton.test', 'IP:10.1.2.3', 'example.org', '::2'],
    days: 2,
  });
  const cert = new X509Certificate(id.certPem);
  t.match(cert.subject, /proton\.test/);
  const sans = (cert.subjectAltName ?? '').split(', ').sort();
  t.same(sans, ['DNS:example.org', 'DNS:proton.test', 'IP Address:0:0:0:0:0:0:0:2', 'IP Address:10.1.2.3'].sort());
  t.equal(cert.checkHost('localhost'), undefined);
  const to = Date.parse(cert.validTo);
  t.ok(to >= before - 1000 + 2 * 86_400_000 && to <= Date.now() + 2 * 86_400_000, `2 days from generation (${(to - before) / 86_400_000} days)`);
  t.ok(cert.checkPrivateKey(createPrivateKey(id.keyPem)));
});

t.test('two identities differ', async (t) => {
  const [a, b] = await Promise.all([generateSelfSigned(), generateSelfSigned()]);
  t.not(a.sha256, b.sha256);
  t.not(a.keyPem, b.keyPem);
  t.not(new X509Certificate(a.certPem).serialNumber, new X509Certificate(b.certPem).serialNumber);
});

t.test('bad options are rejected', async (t) => {
  await t.rejects(generateSelfSigned({ days: 0 }), RangeError);
  await t.rejects(generateSelfSigned({ days: Number.NaN }), RangeError);
  await t.rejects(generateSelfSigned({ days: -1 }), RangeError);
  await t.rejects(generateSelfSigned({ altNames: ['IP:not-an-ip'] }), RangeError);
  await t.rejects(generateSelfSigned({ altNames: ['DNS:'] }), RangeError);
});
