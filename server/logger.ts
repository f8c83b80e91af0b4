import pino, { type Logger } from 'pino';

/**
 * Paths whose values are replaced by "[redacted]" in every log line: credentials in headers and the secret
 * fields our own objects carry (tokens, keys, secrets), so a log line can never leak one.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.secretKey',
  '*.apiKey',
  '*.sharedSecret',
  '*.clientSecret',
  '*.encryptionKey',
  '*.password',
];

/** The service logger (pino, JSON lines on stdout). `level` is a pino level or 'silent'. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: 'meterbridge' } }, destination);
}
