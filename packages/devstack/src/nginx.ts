import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port.js';
import { requireBinary, stopProcess, waitForPort } from './processes.js';

const NGINX_CONF = resolve(import.meta.dirname, '../../../nginx.conf');
const TLS_CONF = resolve(import.meta.dirname, '../../../deploy/nginx/tls.conf');

/** The lines of nginx.conf that name production hosts and paths; each must occur exactly once. */
export const SUBSTITUTED_LINES = {
  upstream: 'server api:3000;',
  listen: 'listen 80;',
  root: 'root /usr/share/nginx/html;',
  accessLog: 'access_log /var/log/nginx/access.log simorgh;',
  mimeTypes: 'include /etc/nginx/mime.types;',
  serverIncludes: 'include /etc/nginx/server.d/*.conf;',
} as const;

/** The lines of deploy/nginx/tls.conf that name the production port and certificate paths. */
export const TLS_SUBSTITUTED_LINES = {
  listen: 'listen 443 ssl http2;',
  certificate: 'ssl_certificate /etc/nginx/certs/fullchain.pem;',
  key: 'ssl_certificate_key /etc/nginx/certs/privkey.pem;',
} as const;

/** The lines that apply nginx.conf's per-address limits (not the zones they count in). */
const LIMIT_LINES = /^[ \t]*limit_(?:req|conn)[ \t][^;\n]*;[ \t]*\n/gm;

export type NginxRun = { prefix: string; configPath: string };

export type NginxOptions = {
  /** API ports; with several, nginx balances between them as with scaled API containers. */
  upstreamPorts: number[];
  listenPort: number;
  /** The built web app; an empty temporary folder when omitted. */
  webRoot?: string;
  /**
   * Apply nginx.conf's per-address request and connection limits. Off by default: tests, the
   * e2e stack and the bench send every simulated user's traffic from 127.0.0.1, which those
   * limits would rightly throttle as one client.
   */
  perAddressLimits?: boolean;
  /** Exact lines to replace, each of which must occur once (e.g. a shorter timeout for a test). */
  replace?: Record<string, string>;
  /** Also serve HTTPS with deploy/nginx/tls.conf, on this port with these PEM files. */
  tls?: { port: number; certificate: string; key: string };
  /** Operator snippets for /etc/nginx/server.d, by file name (e.g. the README's realip lines). */
  serverSnippets?: Record<string, string>;
};

/** Replaces each line, failing unless it occurs exactly once, so a renamed line cannot go unnoticed. */
function substitute(file: string, text: string, replacements: Array<[string, string]>): string {
  let result = text;
  for (const [from, to] of replacements) {
    const count = result.split(from).length - 1;
    if (count !== 1) throw new Error(`${file} must contain "${from}" exactly once (found ${count})`);
    result = result.replace(from, () => to);
  }
  return result;
}

/**
 * Copies the repository's nginx.conf into a temporary prefix with the upstream, port, web
 * root, log paths and server includes pointed at loopback and temporary places. Everything
 * else is the file as shipped, apart from the per-address limits unless asked for and any
 * `replace` lines.
 */
export function prepareNginx(options: NginxOptions): NginxRun {
  const prefix = mkdtempSync(join(tmpdir(), 'simorgh-nginx-'));
  // Workers drop root privileges; they must be able to read the web root and the prefix.
  chmodSync(prefix, 0o755);
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
    (kind) => `${kind}_temp_path ${join(prefix, `${kind}_temp`)};`,
  );
  const serverIncludes = join(prefix, 'server.d');
  mkdirSync(serverIncludes, { mode: 0o755 });
  const replacements: Array<[string, string]> = [
    [SUBSTITUTED_LINES.upstream, options.upstreamPorts.map((port) => `server 127.0.0.1:${port};`).join('\n    ')],
    [SUBSTITUTED_LINES.listen, `listen 127.0.0.1:${options.listenPort};`],
    [SUBSTITUTED_LINES.root, `root ${options.webRoot ?? prefix};`],
    [SUBSTITUTED_LINES.accessLog, `access_log ${join(prefix, 'access.log')} simorgh;`],
    [SUBSTITUTED_LINES.mimeTypes, [SUBSTITUTED_LINES.mimeTypes, ...temps].join('\n  ')],
    [SUBSTITUTED_LINES.serverIncludes, `include ${join(serverIncludes, '*.conf')};`],
    ...Object.entries(options.replace ?? {}),
  ];
  let config = substitute('nginx.conf', readFileSync(NGINX_CONF, 'utf8'), replacements);
  if (!options.perAddressLimits) {
    const lifted = config.replace(LIMIT_LINES, '');
    if (lifted === config) throw new Error('nginx.conf has no limit_req / limit_conn lines to lift');
    config = lifted;
  }
  for (const [name, text] of Object.entries(options.serverSnippets ?? {})) {
    writeFileSync(join(serverIncludes, name), text);
  }
  if (options.tls) {
    const tls = substitute('deploy/nginx/tls.conf', readFileSync(TLS_CONF, 'utf8'), [
      [TLS_SUBSTITUTED_LINES.listen, `listen 127.0.0.1:${options.tls.port} ssl http2;`],
      [TLS_SUBSTITUTED_LINES.certificate, `ssl_certificate ${options.tls.certificate};`],
      [TLS_SUBSTITUTED_LINES.key, `ssl_certificate_key ${options.tls.key};`],
    ]);
    writeFileSync(join(serverIncludes, 'tls.conf'), tls);
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

export type NginxServer = {
  url: string;
  port: number;
  /** Set when started with `tls`. */
  httpsUrl?: string;
  tlsPort?: number;
  errorLog(): string;
  stop(): Promise<void>;
};

export type StartNginxOptions = Omit<NginxOptions, 'listenPort' | 'tls'> & {
  /** PEM files for deploy/nginx/tls.conf, served on a second free port. */
  tls?: { certificate: string; key: string };
};

/** Runs the real nginx binary with the repository's nginx.conf on a free loopback port. */
export async function startNginx(options: StartNginxOptions): Promise<NginxServer> {
  const binary = requireBinary('nginx', 'nginx');
  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : undefined;
  const tls = options.tls && tlsPort ? { ...options.tls, port: tlsPort } : undefined;
  const run = prepareNginx({ ...options, listenPort: port, tls });
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
    if (tlsPort) await waitForPort(tlsPort, 10_000, child);
  } catch (error) {
    throw new Error(`nginx did not start: ${(error as Error).message}\n${output.join('')}\n${errorLog()}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    ...(tlsPort ? { httpsUrl: `https://127.0.0.1:${tlsPort}`, tlsPort } : {}),
    errorLog,
    stop: async () => {
      // SIGQUIT is nginx's graceful shutdown.
      await stopProcess(child, 'SIGQUIT', 10_000);
      rmSync(run.prefix, { recursive: true, force: true });
    },
  };
}
