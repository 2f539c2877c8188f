import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port.js';
import { requireBinary, stopProcess, waitForPort } from './processes.js';

const NGINX_CONF = resolve(import.meta.dirname, '../../../nginx.conf');

/** The lines of nginx.conf that name production hosts and paths; each must occur exactly once. */
export const SUBSTITUTED_LINES = {
  upstream: 'server api:3000;',
  listen: 'listen 80;',
  root: 'root /usr/share/nginx/html;',
  accessLog: 'access_log /var/log/nginx/access.log simorgh;',
  mimeTypes: 'include /etc/nginx/mime.types;',
} as const;

export type NginxRun = { prefix: string; configPath: string };

export type NginxOptions = {
  /** API ports; with several, nginx balances between them as with scaled API containers. */
  upstreamPorts: number[];
  listenPort: number;
  /** The built web app; an empty temporary folder when omitted. */
  webRoot?: string;
};

/**
 * Copies the repository's nginx.conf into a temporary prefix with the upstream, port, web
 * root and log paths pointed at loopback and temporary places. Everything else is the file
 * as shipped.
 */
export function prepareNginx(options: NginxOptions): NginxRun {
  const prefix = mkdtempSync(join(tmpdir(), 'simorgh-nginx-'));
  // Workers drop root privileges; they must be able to read the web root and the prefix.
  chmodSync(prefix, 0o755);
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
    (kind) => `${kind}_temp_path ${join(prefix, `${kind}_temp`)};`,
  );
  const replacements: Array<[string, string]> = [
    [SUBSTITUTED_LINES.upstream, options.upstreamPorts.map((port) => `server 127.0.0.1:${port};`).join('\n    ')],
    [SUBSTITUTED_LINES.listen, `listen 127.0.0.1:${options.listenPort};`],
    [SUBSTITUTED_LINES.root, `root ${options.webRoot ?? prefix};`],
    [SUBSTITUTED_LINES.accessLog, `access_log ${join(prefix, 'access.log')} simorgh;`],
    [SUBSTITUTED_LINES.mimeTypes, [SUBSTITUTED_LINES.mimeTypes, ...temps].join('\n  ')],
  ];
  let config = readFileSync(NGINX_CONF, 'utf8');
  for (const [from, to] of replacements) {
    const count = config.split(from).length - 1;
    if (count !== 1) throw new Error(`nginx.conf must contain "${from}" exactly once (found ${count})`);
    config = config.replace(from, to);
  }
  const configPath = join(prefix, 'nginx.conf');
  writeFileSync(configPath, config);
  return { prefix, configPath };
}

/** Command-line arguments that keep nginx's pid, logs and temp files inside the prefix. */
export function nginxArgs(run: NginxRun, globals: string[] = []): string[] {
  const pid = `pid ${join(run.prefix, 'nginx.pid')};`;
  return ['-p', run.prefix, '-e', join(run.prefix, 'error.log'), '-c', run.configPath, '-g', [pid, ...globals].join(' ')];
}

/** `nginx -t` on a prepared configuration. */
export function testNginxConfig(run: NginxRun): { status: number | null; output: string } {
  const result = spawnSync(requireBinary('nginx', 'nginx'), ['-t', ...nginxArgs(run)], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export type NginxServer = { url: string; port: number; errorLog(): string; stop(): Promise<void> };

/** Runs the real nginx binary with the repository's nginx.conf on a free loopback port. */
export async function startNginx(options: Omit<NginxOptions, 'listenPort'>): Promise<NginxServer> {
  const binary = requireBinary('nginx', 'nginx');
  const port = await freePort();
  const run = prepareNginx({ ...options, listenPort: port });
  const output: string[] = [];
  const child: ChildProcess = spawn(binary, nginxArgs(run, ['daemon off;']), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const errorLog = () => {
    try {
      return readFileSync(join(run.prefix, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await waitForPort(port, 10_000, child);
  } catch (error) {
    throw new Error(`nginx did not start: ${(error as Error).message}\n${output.join('')}\n${errorLog()}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    errorLog,
    stop: async () => {
      // SIGQUIT is nginx's graceful shutdown.
      await stopProcess(child, 'SIGQUIT', 10_000);
      rmSync(run.prefix, { recursive: true, force: true });
    },
  };
}
