import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import type { SecureVersion } from 'node:tls';

export type RawResponse = { status: number; headers: IncomingHttpHeaders; body: Buffer };

export type SendOptions = {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** HTTPS to a self-signed certificate, optionally pinned to one protocol version. */
  tls?: { version?: SecureVersion };
};

/**
 * A plain HTTP/1.1 request on its own connection, so headers like Content-Encoding are seen
 * exactly as sent and no connection is shared between requests.
 */
export function send(port: number, path: string, options: SendOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false as const };
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    };
    const version = options.tls?.version;
    const req = options.tls
      ? httpsRequest({ ...common, rejectUnauthorized: false, ...(version ? { minVersion: version, maxVersion: version } : {}) }, onResponse)
      : httpRequest(common, onResponse);
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Opens a connection and writes `data` without ever finishing the request; resolves once
 * connected. `closed` settles with the milliseconds until the server closed the connection.
 */
export async function stall(port: number, data: string): Promise<{ socket: Socket; closed: Promise<number> }> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const start = Date.now();
  // A reset (reset_timedout_connection) is as much a close as a FIN.
  const closed = new Promise<number>((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(Date.now() - start));
  });
  socket.resume();
  if (data) socket.write(data);
  return { socket, closed };
}
