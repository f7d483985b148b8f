/**
 * Debian's nginx on loopback with the shipped edge config (deploy/nginx/onair-edge.conf) in front
 * of an origin: the config is used as is, only its addresses and cache path replaced. For the edge
 * tests, the E2E run through the edge and the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
const EDGE_CONF = path.join(import.meta.dirname, '..', '..', 'deploy', 'nginx', 'onair-edge.conf');

export interface NginxProcess {
  url: string;
  port: number;
  dir: string;
  stderr(): string;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Runs nginx in the foreground with its own pid, logs and temp paths; `http` is the http { } body. */
export async function startNginx(http: (port: number, dir: string) => string): Promise<NginxProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'onair-nginx-'));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      // Workers as root: the test's temp dirs are not readable by www-data.
      'user root;',
      'daemon off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 4096; }',
      'http {',
      `  access_log off;`,
      `  client_body_temp_path ${dir}/body;`,
      `  proxy_temp_path ${dir}/proxy;`,
      `  fastcgi_temp_path ${dir}/fastcgi;`,
      `  uwsgi_temp_path ${dir}/uwsgi;`,
      `  scgi_temp_path ${dir}/scgi;`,
      '  types { application/vnd.apple.mpegurl m3u8; application/dash+xml mpd; video/mp4 m4s mp4; }',
      '  sendfile on;',
      '  tcp_nopush on;',
      '  keepalive_requests 100000;',
      http(port, dir),
      '}',
    ].join('\n'),
  );
  let stderr = '';
  const child: ChildProcess = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const deadline = Date.now() + 5000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = existsSync(path.join(dir, 'error.log'))
        ? readFileSync(path.join(dir, 'error.log'), 'utf8')
        : '';
      child.kill('SIGKILL');
      throw new Error(`nginx did not start: ${stderr}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${String(port)}`,
    port,
    dir,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGQUIT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The shipped edge config in front of the origin at `originPort`. */
export function startEdge(originPort: number): Promise<NginxProcess> {
  const shipped = readFileSync(EDGE_CONF, 'utf8');
  return startNginx((port, dir) =>
    shipped
      .replace('/var/cache/nginx/onair', `${dir}/cache`)
      .replace('server 127.0.0.1:3000;', `server 127.0.0.1:${String(originPort)};`)
      .replace(/listen 80;/, `listen 127.0.0.1:${String(port)};`),
  );
}

/** nginx serving a folder of files (the reference the bench compares the origin with). */
export function startFileServer(root: string): Promise<NginxProcess> {
  return startNginx(
    (port) => `  server {
    listen 127.0.0.1:${String(port)};
    root ${root};
    location / { add_header Cache-Control "public, max-age=1"; }
  }`,
  );
}
