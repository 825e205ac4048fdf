import { request } from 'node:http';
import type { Duplex } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { localJwks } from '../src/auth/jwks.ts';
import { generateSigningKey } from '../src/auth/keys.ts';
import { createTokenIssuer, createTokenVerifier, type Principal } from '../src/auth/tokens.ts';
import { authenticateUpgrade, BEARER_PROTOCOL, offeredProtocols } from '../src/auth/websocket.ts';
import { baseConfig, loadConfig } from '../src/config.ts';
import { Problem } from '../src/problem.ts';
import { createService } from '../src/service.ts';
import { rejectUpgrade } from '../src/upgrade.ts';

const key = await generateSigningKey('ES256');
const issuer = createTokenIssuer({ key, issuer: 'souk-users', audience: 'souk' });
const verifier = createTokenVerifier({ keys: localJwks([key]), issuer: 'souk-users', audience: 'souk' });
const other = createTokenIssuer({
  key: await generateSigningKey('ES256'),
  issuer: 'souk-users',
  audience: 'souk',
});

const service = createService({
  config: loadConfig(baseConfig, {
    SERVICE_NAME: 'upgrade-test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    SHUTDOWN_DRAIN_MS: '60000',
  }),
});
const open = new Set<Duplex>();
const accepted: Principal[] = [];
let closed = 0;
const { url } = await service.start({
  routes: [],
  upgrade: {
    handle(req, socket) {
      authenticateUpgrade(req, { verifier }).then(
        (principal) => {
          accepted.push(principal);
          open.add(socket);
          socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
        },
        (error: unknown) => rejectUpgrade(socket, error instanceof Problem ? error : 500),
      );
    },
    async close() {
      closed++;
      for (const socket of open) socket.destroy();
    },
  },
});

type Outcome =
  | { upgraded: true; socket: Duplex }
  | { upgraded: false; status: number; headers: Record<string, unknown>; body: string };

function upgrade(protocols?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/stream`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'test',
        ...(protocols ? { 'Sec-WebSocket-Protocol': protocols } : {}),
      },
    });
    req.on('upgrade', (_res, socket) => resolve({ upgraded: true, socket }));
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () =>
        resolve({ upgraded: false, status: res.statusCode ?? 0, headers: res.headers, body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

test('offered protocols: the bearer entry is taken out of the list', () => {
  assert.equal(offeredProtocols('app.v1, bearer.abc.def'), { token: 'abc.def', protocols: ['app.v1'] });
  assert.equal(offeredProtocols(undefined), { token: undefined, protocols: [] });
  assert.equal(offeredProtocols('bearer.'), { token: undefined, protocols: [] });
});

test('no token: 401 with a Bearer challenge, no upgrade', async () => {
  const r = await upgrade('app.v1');
  assert.is(r.upgraded, false);
  if (r.upgraded) return;
  assert.is(r.status, 401);
  assert.is(r.headers['www-authenticate'], 'Bearer');
  assert.is((JSON.parse(r.body) as { detail: string }).detail, 'bearer token required');
});

test('a token signed by another key: 401 invalid_token', async () => {
  const { token } = await other.issue({ sub: 'u1' });
  const r = await upgrade(`app.v1, ${BEARER_PROTOCOL}${token}`);
  assert.is(r.upgraded, false);
  if (r.upgraded) return;
  assert.is(r.status, 401);
  assert.match(String(r.headers['www-authenticate']), /invalid_token/);
});

test('a valid token upgrades with its principal; stop closes the upgraded connection first', async () => {
  const { token } = await issuer.issue({ sub: 'u1', roles: ['customer'] });
  const r = await upgrade(`app.v1, ${BEARER_PROTOCOL}${token}`);
  assert.ok(r.upgraded);
  assert.is(accepted.at(-1)?.sub, 'u1');
  if (!r.upgraded) return;
  const ended = new Promise<void>((resolve) => r.socket.on('close', () => resolve()));
  const started = Date.now();
  assert.ok(await service.stop());
  await ended;
  assert.is(closed, 1);
  // Without the close hook, the open socket would hold the drain for SHUTDOWN_DRAIN_MS (60 s here).
  assert.ok(Date.now() - started < 30_000, 'stop did not wait for the drain deadline');
});

test.run();
