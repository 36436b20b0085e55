/**
 * The web UI: the static files Vite built into ui/dist (scripts/build.sh), served at /ui/ when the config says
 * `ui = true`. `/` redirects there (307, as Vault does); a /ui/ path that names no file gets index.html, so the
 * single-page app's own routes survive a reload. Every answer under /ui/ carries a strict Content-Security-Policy
 * (no inline script or style, nothing from elsewhere), X-Frame-Options: DENY and nosniff; hashed assets are cached
 * for a year, index.html never.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** ui/dist of this checkout: found from this module in src/http (tsx) or dist/src/http (the build). */
export function defaultUiDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'ui'))) return path.join(dir, 'ui', 'dist');
    dir = path.dirname(dir);
  }
  return path.resolve('ui', 'dist');
}

interface StaticFile {
  body: Buffer;
  type: string;
  immutable: boolean;
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', UI_CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin');
}

/** Registers /, /ui and /ui/* on `app`, serving the files under `dir` (read once, at the first request). */
export function registerUi(app: FastifyInstance, dir = defaultUiDir()): void {
  let files: Map<string, StaticFile> | undefined;
  const load = (): Map<string, StaticFile> => {
    if (files) return files;
    const found = new Map<string, StaticFile>();
    const walk = (sub: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(path.join(dir, sub), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const rel = sub ? `${sub}/${e.name}` : e.name;
        if (e.isDirectory()) walk(rel);
        else if (e.isFile()) {
          found.set(rel, {
            body: fs.readFileSync(path.join(dir, rel)),
            type: TYPES[path.extname(e.name)] ?? 'application/octet-stream',
            immutable: rel.startsWith('assets/'),
          });
        }
      }
    };
    walk('');
    // An unbuilt UI is not cached, so a build made while the server runs is picked up.
    if (found.has('index.html')) files = found;
    return found;
  };

  const redirect = (_req: unknown, reply: FastifyReply) => reply.code(307).header('location', '/ui/').send();
  app.get('/', redirect);
  app.get('/ui', redirect);
  app.get('/ui/*', (req, reply) => {
    const all = load();
    let rel = '';
    try {
      rel = decodeURIComponent(((req.params as Record<string, string>)['*'] ?? '').split('?')[0]);
    } catch {
      rel = ''; // malformed escapes name no file: the app's index
    }
    securityHeaders(reply);
    let file = rel && !rel.split('/').includes('..') ? all.get(rel) : undefined;
    if (!file && rel.startsWith('assets/')) {
      reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('not found');
      return;
    }
    file ??= all.get('index.html');
    if (!file) {
      reply.code(503).header('content-type', 'text/plain; charset=utf-8').send('The Tresor UI is not built: run ./scripts/build.sh (it builds ui/ into ui/dist).');
      return;
    }
    reply
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('content-type', file.type)
      .send(file.body);
  });
}
