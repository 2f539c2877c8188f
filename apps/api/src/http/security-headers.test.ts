/**
 * securityHeaders replaced helmet() for speed (docs/decisions/security-headers.md). Every header
 * helmet sets by default is either set here with the same value or listed below with the reason
 * this API answers differently; nothing is set here that is not accounted for.
 */
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { securityHeaders } from './security-headers.js';

async function headersFrom(middleware: RequestHandler): Promise<Record<string, string>> {
  const app = express();
  app.disable('x-powered-by');
  app.use(middleware);
  app.get('/probe', (_req, res) => {
    res.json({ ok: true });
  });
  const res = await request(app).get('/probe');
  const ignored = new Set(['content-type', 'content-length', 'etag', 'date', 'connection', 'keep-alive']);
  return Object.fromEntries(Object.entries(res.headers as Record<string, string>).filter(([name]) => !ignored.has(name)));
}

/** Headers whose value here differs from helmet's, and why. */
const different: Record<string, { ours: string; why: string }> = {
  'content-security-policy': {
    ours: "default-src 'none'; frame-ancestors 'none'",
    why: 'the API answers JSON, never a document: nothing may load or frame it (nginx sets the web app\'s own policy)',
  },
  'x-frame-options': { ours: 'DENY', why: 'no page of this API is ever framed, not even by the same origin' },
};

/** Headers helmet sets that this API leaves out, and why. */
const leftOut: Record<string, string> = {
  'cross-origin-opener-policy': 'applies to documents that open windows; JSON responses are never one',
  'origin-agent-cluster': 'applies to documents only',
  'strict-transport-security': 'belongs where TLS ends (the proxy in front of nginx); the API itself speaks plain HTTP behind nginx',
  'x-dns-prefetch-control': 'controls link prefetching in HTML pages; there is none in a JSON answer',
  'x-download-options': 'Internet Explorer 8 only',
  'x-permitted-cross-domain-policies': 'Flash and Acrobat cross-domain policy files; nothing here serves them',
  'x-xss-protection': "helmet sends 0 to turn off old browsers' XSS auditor, which only ever ran on HTML",
};

describe('security headers against helmet()', () => {
  it('sets every header helmet sets with the same value, or differs as listed with a reason', async () => {
    const [fromHelmet, fromOurs] = await Promise.all([headersFrom(helmet()), headersFrom(securityHeaders)]);

    for (const [name, value] of Object.entries(fromHelmet)) {
      if (name in leftOut) {
        expect(fromOurs[name], name).toBeUndefined();
      } else if (name in different) {
        expect(fromOurs[name], name).toBe(different[name]?.ours);
        expect(value, name).not.toBe(different[name]?.ours);
      } else {
        expect(fromOurs[name], name).toBe(value);
      }
    }
  });

  it('sets nothing helmet does not, and every listed difference still exists in helmet', async () => {
    const [fromHelmet, fromOurs] = await Promise.all([headersFrom(helmet()), headersFrom(securityHeaders)]);

    expect(Object.keys(fromOurs).filter((name) => !(name in fromHelmet))).toEqual([]);
    for (const name of [...Object.keys(leftOut), ...Object.keys(different)]) expect(fromHelmet, name).toHaveProperty(name);
  });
});
