/**
 * The local entry point: one port in front of every service, routing by path prefix like the
 * chart's Ingress does in a cluster (and from the same list of prefixes), WebSockets included.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';

export interface GatewayRoute {
  /** A path prefix such as `/items`; matches `/items`, `/items/…` and `/items?…`. */
  prefix: string;
  service: string;
  target: string;
}

export function matchRoute(routes: readonly GatewayRoute[], url: string): GatewayRoute | undefined {
  const path = url.split('?')[0] ?? '/';
  let best: GatewayRoute | undefined;
  for (const r of routes) {
    const hit = path === r.prefix || path.startsWith(r.prefix.endsWith('/') ? r.prefix : `${r.prefix}/`);
    if (hit && (!best || r.prefix.length > best.prefix.length)) best = r;
  }
  return best;
}

function problem(res: http.ServerResponse, status: number, title: string, detail: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  res.writeHead(status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export interface GatewayOptions {
  /** What `/` answers when no route claims it, e.g. a redirect to the live console. */
  home?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}

export function createGateway(routes: () => readonly GatewayRoute[], opts: GatewayOptions = {}): http.Server {
  const proxy = httpProxy.createProxyServer({ xfwd: true, ws: true, proxyTimeout: 60_000 });
  proxy.on('error', (err, req, target) => {
    const route = matchRoute(routes(), req.url ?? '/');
    const who = route?.service ?? 'the service';
    if (target instanceof http.ServerResponse) {
      problem(
        target,
        503,
        'Service Unavailable',
        `${who} is not answering: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
      );
    } else {
      (target as Duplex).destroy();
    }
  });

  const server = http.createServer((req, res) => {
    const route = matchRoute(routes(), req.url ?? '/');
    if (route) {
      proxy.web(req, res, { target: route.target });
      return;
    }
    if (opts.home && (req.url === '/' || req.url?.startsWith('/?'))) {
      opts.home(req, res);
      return;
    }
    problem(res, 404, 'Not Found', `no service serves ${req.url?.split('?')[0]}`);
  });
  server.on('upgrade', (req, socket, head) => {
    const route = matchRoute(routes(), req.url ?? '/');
    if (!route) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
      return;
    }
    proxy.ws(req, socket, head, { target: route.target });
  });
  server.on('close', () => proxy.close());
  return server;
}
