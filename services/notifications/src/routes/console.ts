import { readFileSync } from 'node:fs';
import type { Middleware } from '@souk/kit';

const files: Record<string, { name: string; type: string }> = {
  '/console': { name: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/': { name: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/app.js': { name: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/console/charts.js': { name: 'charts.js', type: 'text/javascript; charset=utf-8' },
  '/console/style.css': { name: 'style.css', type: 'text/css; charset=utf-8' },
};

/**
 * The live console: static files, no build step. Same origin as the API (behind the local gateway
 * or the Ingress), so its script calls /sessions and /notifications and opens the WebSockets
 * without CORS; the policy below allows exactly that and nothing else.
 */
export function consolePages(): Middleware {
  const dir = new URL('../console/', import.meta.url);
  const content = new Map(
    Object.entries(files).map(([path, f]) => [
      path,
      { type: f.type, body: readFileSync(new URL(f.name, dir)) },
    ]),
  );
  return async (ctx, next) => {
    const file = content.get(ctx.path);
    if (!file || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.set({
      'Content-Security-Policy':
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      'Cache-Control': 'no-cache',
    });
    ctx.type = file.type;
    ctx.body = file.body;
  };
}
