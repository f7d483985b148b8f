import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { newSecret } from '../store/ids.ts';

/**
 * The admin token is ONAIR_ADMIN_TOKEN, or one generated on first start and kept
 * in the data dir (mode 0600). `generated` is true only the first time, so the
 * caller can print it once.
 */
export function resolveAdminToken(
  configured: string | undefined,
  dataDir: string,
): { token: string; generated: boolean; file?: string } {
  if (configured) return { token: configured, generated: false };
  const file = path.join(dataDir, 'admin-token');
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return { token, generated: false, file };
  }
  const token = newSecret('adm');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, generated: true, file };
}
