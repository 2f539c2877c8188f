import { pino, type Logger } from 'pino';
import type { Env } from './env.js';

export type { Logger };

/**
 * Structured JSON logs. Credentials never reach a log line: auth headers, cookies and any
 * password/token field are redacted wherever they appear.
 */
export function createLogger(env: Pick<Env, 'LOG_LEVEL' | 'NODE_ENV'>): Logger {
  return pino({
    level: env.LOG_LEVEL,
    base: { service: 'simorgh-api' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.password',
        '*.access_token',
        '*.token',
        'password',
        'access_token',
        'token',
      ],
      censor: '[redacted]',
    },
  });
}
