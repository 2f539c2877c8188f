import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './free-port.js';

export type TcpProxy = {
  port: number;
  /** Closes the listener and every open connection: clients see a dead server. */
  cut(): Promise<void>;
  /** Accepts connections but never forwards or answers: clients see a hung server. */
  hang(): void;
  /** Forwards again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
};

/**
 * A loopback TCP forwarder in front of a shared server, so one test file can simulate that
 * server dying, hanging and coming back without disturbing other files that use it.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let mode: 'forward' | 'hang' = 'forward';
  let server: Server | null = null;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        sockets.add(client);
        client.on('close', () => sockets.delete(client));
        client.on('error', () => client.destroy());
        if (mode === 'hang') return;
        const upstream = connect({ host: '127.0.0.1', port: targetPort });
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });

  const cut = async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    const current = server as Server | null;
    server = null;
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  return {
    port,
    cut,
    hang: () => {
      mode = 'hang';
      for (const socket of sockets) socket.destroy();
    },
    restore: async () => {
      mode = 'forward';
      if (!server) await listen();
    },
    close: cut,
  };
}
