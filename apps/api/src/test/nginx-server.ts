import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, requireBinary, stopProcess, waitForPort } from '../local-stack/index.js';

const NGINX_CONF = resolve(import.meta.dirname, '../../../../nginx.conf');

export type NginxServer = { url: string; port: number; errorLog(): string; stop(): Promise<void> };

/**
 * Runs the repository's nginx.conf with the real nginx binary on loopback: only the upstream
 * servers, the listen address, the web root and the log/temp paths are rewritten. With several
 * upstream ports nginx balances between them (round robin), as with scaled API containers.
 */
export async function startNginx(options: { upstreamPorts: number[]; webRoot?: string }): Promise<NginxServer> {
  const binary = requireBinary('nginx', 'nginx');
  const port = await freePort();
  const prefix = mkdtempSync(join(tmpdir(), 'simorgh-nginx-'));
  // Workers drop root privileges; they must be able to read the prefix and the web root.
  chmodSync(prefix, 0o755);
  const webRoot = options.webRoot ?? prefix;
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `${kind}_temp_path ${join(prefix, `${kind}_temp`)};`);
  const replacements: Array<[string, string]> = [
    ['server api:3000;', options.upstreamPorts.map((upstream) => `server 127.0.0.1:${upstream};`).join('\n    ')],
    ['listen 80;', `listen 127.0.0.1:${port};`],
    ['root /usr/share/nginx/html;', `root ${webRoot};`],
    ['access_log /var/log/nginx/access.log simorgh;', `access_log ${join(prefix, 'access.log')} simorgh;`],
    ['include /etc/nginx/mime.types;', ['include /etc/nginx/mime.types;', ...temps].join('\n  ')],
  ];
  let config = readFileSync(NGINX_CONF, 'utf8');
  for (const [from, to] of replacements) {
    if (config.split(from).length !== 2) throw new Error(`nginx.conf must contain "${from}" exactly once`);
    config = config.replace(from, to);
  }
  const configPath = join(prefix, 'nginx.conf');
  writeFileSync(configPath, config);
  const errorLogPath = join(prefix, 'error.log');
  const child: ChildProcess = spawn(
    binary,
    ['-p', prefix, '-e', errorLogPath, '-c', configPath, '-g', `pid ${join(prefix, 'nginx.pid')}; daemon off;`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const output: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const errorLog = () => {
    try {
      return readFileSync(errorLogPath, 'utf8');
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
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
