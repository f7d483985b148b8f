import { pino, type Logger } from 'pino';

export type { Logger };

/** Stream keys travel as SRT passphrases and stream ids in URLs: whatever a log line quotes. */
const URL_SECRETS = /\b(passphrase|streamid|key|token)=[^&\s"'\\]+/gi;

/** A log line with the secrets a URL can carry replaced by `[redacted]`. */
export function redactSecrets(line: string): string {
  return line.replace(URL_SECRETS, '$1=[redacted]');
}

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'onair' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // The last line of defence; the code logs no key on purpose (rtmp-server.ts redacts paths).
    hooks: { streamWrite: redactSecrets },
  });
}
