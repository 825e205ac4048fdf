import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { defineBench, httpThroughput, median } from '@souk/harness/bench';
import { useSuite } from '@souk/harness/suite';
import { ARGON2_PARAMS } from '../src/domain/passwords.ts';
import { call, PASSWORD, startApp } from '../test/support.ts';

/**
 * Login throughput. A login is one argon2id verification (by design the dominant cost), a
 * transaction inserting the session family and refresh token, and an ES256 signature, so the
 * baseline is the argon2 verify time on this machine: req/s × verify time ≈ cores busy hashing.
 */
export default defineBench('login', async (ctx) => {
  const s = await useSuite('bench-users-login');
  const app = await startApp(s, {
    LOG_LEVEL: 'silent',
    LOGIN_LIMIT_PER_ACCOUNT: '100000000',
    LOGIN_LIMIT_PER_IP: '100000000',
  });
  try {
    const email = `bench-${Date.now()}@example.com`;
    await call(app.url, 'POST', '/users', { body: { email, password: PASSWORD, name: 'Bench' } });

    const phc = await hash(PASSWORD, ARGON2_PARAMS);
    const samples: number[] = [];
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      await verify(phc, PASSWORD);
      samples.push(performance.now() - started);
    }
    const verifyMs = median(samples.slice(5));
    // What the machine verifies per second right now with the server's thread pool (4) busy:
    // the ceiling of argon2-bound logins, measured in the same run as them (the machine is shared).
    let verified = 0;
    const until = Date.now() + 5_000;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) {
          await verify(phc, 'not it');
          verified++;
        }
      }),
    );
    const argon2PerSecond = verified / 5;

    const load = {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      connections: 8,
      seconds: 10,
    };
    const ok = await httpThroughput(`${app.url}/sessions`, {
      ...load,
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    const wrong = await httpThroughput(`${app.url}/sessions`, {
      ...load,
      body: JSON.stringify({ email, password: 'not the password at all' }),
    });
    const unknown = await httpThroughput(`${app.url}/sessions`, {
      ...load,
      body: JSON.stringify({ email: 'nobody@example.com', password: PASSWORD }),
    });
    ctx.log(`argon2id verify (m=19456 KiB, t=2, p=1): median ${verifyMs.toFixed(1)} ms over 25 runs`);
    ctx.log(`argon2id verifies, 4 at once: ${argon2PerSecond.toFixed(1)}/s`);
    ctx.log(`login (valid): ${JSON.stringify(ok)}`);
    ctx.log(`login (wrong password): ${JSON.stringify(wrong)}`);
    ctx.log(`login (unknown email, dummy verify): ${JSON.stringify(unknown)}`);

    const cores = availableParallelism();
    ctx.record({ name: 'argon2id verify time (one thread)', value: Number(verifyMs.toFixed(1)), unit: 'ms' });
    ctx.record({
      name: 'argon2id verifies per second, 4 threads, no HTTP',
      value: Number(argon2PerSecond.toFixed(1)),
      unit: 'verify/s',
      baseline: Math.round((cores * 1000) / verifyMs),
      baselineName: `${cores} cores / one-thread verify time (an idle machine)`,
    });
    ctx.record({
      name: 'POST /sessions, valid credentials (8 connections)',
      value: Number(ok.requestsPerSecond.toFixed(1)),
      unit: 'req/s',
      baseline: Number(argon2PerSecond.toFixed(1)),
      baselineName: 'argon2id verifies per second, same run',
      target: 'ratio >= 0.5',
    });
    ctx.record({
      name: 'cores busy with argon2 during valid logins (req/s × one-thread verify time)',
      value: Number(((ok.requestsPerSecond * verifyMs) / 1000).toFixed(2)),
      unit: 'cores',
      target: `value <= ${cores + 0.3}`,
    });
    ctx.record({
      name: 'POST /sessions, unknown email (dummy verify)',
      value: Math.round(unknown.requestsPerSecond),
      unit: 'req/s',
      baseline: Math.round(wrong.requestsPerSecond),
      baselineName: 'wrong password',
      // The same argon2 work for both refusals, so their rates match and timing tells nothing.
      target: 'ratio <= 1.5',
    });
    if (ok.non2xx > 0 || ok.errors > 0)
      ctx.log(`WARNING: ${ok.non2xx} non-2xx, ${ok.errors} errors on valid logins`);
    if (unknown.errors > 0) ctx.log(`WARNING: ${unknown.errors} errors on unknown-email logins`);
  } finally {
    await app.stop();
    await s.close();
  }
});
