import { createHash, randomBytes } from 'node:crypto';

/** Keys are 32 random bytes: high entropy, so a fast hash is as good as a slow KDF here (ADR 007). */
export function generateApiKey(): string {
  return `rk_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function keyPrefix(key: string): string {
  return key.slice(0, 10);
}
