import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@souk/harness/infra/processes';
import { useSuite } from '@souk/harness/suite';
import { test } from 'uvu';
import { TEST_CARDS } from '../src/domain/test-cards.ts';
import { commands, paymentsEnv, Saga, settle } from './support.ts';

// A payments process killed (SIGKILL) while a step's transaction is open, after the command was
// consumed and before anything committed: after a restart the step is applied exactly once.
const s = await useSuite('payments-crash');
const saga = new Saga(s);
await saga.start();
const children = new Set<ChildProcess>();
const childScript = fileURLToPath(new URL('./payments-child.ts', import.meta.url));

function startChild(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript], {
    env: { ...process.env, ...paymentsEnv(s, 'http://127.0.0.1:9', { LOG_LEVEL: 'warn', ...env }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`child not ready: ${out}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code}: ${out}`));
    });
  });
}

const sql = async <T>(text: string, ...values: unknown[]): Promise<T[]> => {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: s.databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
};

test('killed inside the step transaction, restarted: the authorization is applied exactly once', async () => {
  // A slow provider keeps the step's transaction open long enough to kill the process inside it.
  const crashing = await startChild({ PROVIDER_LATENCY_MS: '30000', PROVIDER_TIMEOUT_MS: '60000' });
  const command = commands.authorize(TEST_CARDS.approve, 6_100);
  const orderId = command.aggregateId;
  await saga.send(command);
  // The step holds its order's advisory lock from the start of its transaction to the commit.
  await waitFor(
    'the step transaction to be open',
    async () =>
      (
        await sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
           WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()`,
        )
      )[0]!.n > 0,
    30_000,
  );
  crashing.kill('SIGKILL');
  await new Promise((resolve) => crashing.once('exit', resolve));

  const before = await sql<{ n: number }>(
    'SELECT (SELECT count(*) FROM payment_operations) + (SELECT count(*) FROM souk_inbox) + (SELECT count(*) FROM souk_outbox) AS n',
  );
  assert.equal(Number(before[0]?.n), 0, 'nothing of the step committed');

  const restarted = await startChild({});
  const [outcome] = await saga.waitForOutcomes(orderId, 1, 60_000);
  await settle();
  assert.equal(saga.outcomes(orderId).length, 1);
  assert.equal(outcome?.type, 'PaymentAuthorized');
  assert.equal((outcome!.data as { amountCents: number }).amountCents, 6_100);
  const operations = await sql<{ kind: string; result: string }>(
    'SELECT kind, result FROM payment_operations WHERE order_id = $1',
    orderId,
  );
  assert.deepEqual(operations, [{ kind: 'authorize', result: 'succeeded' }]);
  const entries = await sql<{ account: string; amount_cents: string }>(
    'SELECT account, amount_cents FROM ledger_entries ORDER BY id',
  );
  assert.deepEqual(
    entries.map((e) => [e.account, Number(e.amount_cents)]),
    [
      ['customer', -6_100],
      ['hold', 6_100],
    ],
  );
  restarted.kill('SIGTERM');
  await new Promise((resolve) => restarted.once('exit', resolve));
});

test.after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await saga.stop();
  await s.close();
});

test.run();
