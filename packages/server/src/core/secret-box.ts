/**
 * Signing secrets at rest: AES-256-GCM under the master key (DESIGN.md §5), and API keys as
 * SHA-256 hashes (they are high-entropy random strings, so a slow KDF would add nothing).
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export class SecretBox {
  private readonly key: Buffer;
  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
    this.key = masterKey;
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64')}`;
  }

  /** A key for another purpose (portal tokens), derived so that it never equals the master key. */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `hookbridge ${purpose}`, 32));
  }

  open(sealed: string): string {
    const [version, b64] = sealed.split(':');
    if (version !== VERSION || !b64) throw new Error('unknown secret encoding');
    const raw = Buffer.from(b64, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new API key: hb_live_ (or hb_test_) + 32 random bytes in base64url. */
export function generateApiKey(mode: 'live' | 'test' = 'live'): string {
  return `hb_${mode}_${randomBytes(32).toString('base64url')}`;
}

/** The part of a key shown in listings: enough to recognise it, useless to an attacker. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 12);
}
