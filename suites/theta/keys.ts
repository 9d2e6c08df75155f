/** Ed25519 public keys for client hellos (`node:crypto`), raw 32 bytes (RFC 8032 §5.1.5). */
import { generateKeyPairSync } from 'node:crypto';
import { KEY_BYTES } from './model.js';

/**
 * The raw public key of a fresh Ed25519 key pair, read from its JWK form.
 * @throws Error when the runtime returns a key of another size (never on Node ≥ 20).
 */
export function ed25519PublicKey(): Uint8Array {
  const x = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x;
  const raw = Buffer.from(x ?? '', 'base64url');
  if (raw.length !== KEY_BYTES) throw new Error(`ed25519 public key of ${raw.length} bytes, not ${KEY_BYTES}`);
  return new Uint8Array(raw);
}
