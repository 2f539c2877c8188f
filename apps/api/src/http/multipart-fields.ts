import busboy from 'busboy';
import type { Request } from 'express';
import { AppError } from './app-error.js';

const ignore = () => undefined;
const tooLarge = () => new AppError('payload_too_large', 'Request body is too large');

/**
 * Text fields of a multipart/form-data body (as sent by `curl -F name=value`). Files are
 * drained and ignored. The whole body counts against `maxBodyBytes`, like a JSON body: a
 * declared Content-Length over it is refused unread, and reading stops (413) as soon as the
 * bytes received pass it, whatever the parts are. Too many parts, or a field over
 * `maxFieldBytes`, are refused too rather than silently cut.
 */
export function readMultipartFields(req: Request, maxFieldBytes: number, maxBodyBytes: number): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > maxBodyBytes) {
      reject(tooLarge());
      return;
    }
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fields: 20, parts: 40, fieldSize: Math.min(maxFieldBytes, maxBodyBytes), files: 5, fileSize: maxBodyBytes },
      });
    } catch {
      reject(new AppError('validation', 'The multipart form data is malformed (missing boundary?)'));
      return;
    }
    const fields: Record<string, string> = {};
    let failure: AppError | null = null;
    let settled = false;
    let received = 0;
    const finish = (error: AppError | null) => {
      if (settled) return;
      settled = true;
      req.off('data', count);
      if (error) {
        // Stop parsing: the rest of the body is discarded as it arrives, never parsed or
        // buffered (left unread, it would hold up the connection for the 413 and what follows).
        req.unpipe(parser);
        req.resume();
        parser.removeAllListeners();
        parser.on('error', ignore);
        parser.destroy();
        reject(error);
      } else {
        resolve(fields);
      }
    };
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBodyBytes) finish(tooLarge());
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) failure ??= new AppError('payload_too_large', `The form field ${name} is too large`);
      else fields[name] = value;
    });
    parser.on('file', (_name, stream) => stream.on('error', ignore).resume());
    for (const limit of ['partsLimit', 'fieldsLimit', 'filesLimit'] as const) {
      parser.on(limit, () => (failure ??= new AppError('payload_too_large', 'The form has too many parts')));
    }
    parser.on('close', () => finish(failure));
    parser.on('error', () => finish(new AppError('validation', 'The multipart form data is malformed')));
    req.on('data', count);
    req.pipe(parser);
  });
}
