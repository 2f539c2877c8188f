import busboy from 'busboy';
import type { Request } from 'express';
import { AppError } from './app-error.js';

/**
 * Text fields of a multipart/form-data body (as sent by `curl -F name=value`). Files are
 * drained and ignored; a field over `maxFieldBytes` is refused rather than silently cut.
 */
export function readMultipartFields(req: Request, maxFieldBytes: number): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fields: 20, parts: 40, fieldSize: maxFieldBytes, files: 5 } });
    } catch {
      reject(new AppError('validation', 'The multipart form data is malformed (missing boundary?)'));
      return;
    }
    const fields: Record<string, string> = {};
    let failure: AppError | null = null;
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) failure ??= new AppError('payload_too_large', `The form field ${name} is too large`);
      else fields[name] = value;
    });
    parser.on('file', (_name, stream) => stream.resume());
    parser.on('close', () => (failure ? reject(failure) : resolve(fields)));
    parser.on('error', () => reject(new AppError('validation', 'The multipart form data is malformed')));
    req.pipe(parser);
  });
}
