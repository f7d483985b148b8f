import { randomBytes, randomInt } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijkmnopqrstuvwxyz'; // no "l": easy to read aloud

/** A short, URL-safe id: 14 characters of a 35-letter alphabet ≈ 72 bits. */
export function newId(prefix: string): string {
  let out = '';
  for (let i = 0; i < 14; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return `${prefix}_${out}`;
}

/** A secret: 192 bits of randomness, base64url. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}
