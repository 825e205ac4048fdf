import { checkInvariants, waitAllTerminal, waitDownstream } from './invariants.ts';
import { KILLABLE, ProcessPlatform, type ServiceName } from './process-platform.ts';
import { Random } from './random.ts';
import { type Buyer, planOrders, runWorkload, type StockedItem } from './workload.ts';

export interface ChaosOptions {
  seed: number;
  orders: number;
  buyers: number;
  /** Orders placed per second (open loop). */
  ratePerSecond: number;
  /** kill -9 of orders, inventory or payments (each once before any twice), each restarted. */
  kills: number;
  /** One Kafka broker down for `brokerOutageMs`, this many times. */
  brokerOutages: number;
  brokerOutageMs: number;
  /** Postgres primary killed and the replica promoted, once. */
  postgresFailover: boolean;
  /** A Redis master killed, its replica taking over (at most once: the cluster has one replica per master). */
  redisFailover: boolean;
  /** Every order must be terminal this long after the last one was placed. */
  terminalDeadlineMs: number;
  log: (message: string) => void;
}

export interface ChaosResult {
  seed: number;
  orders: number;
  kills: number;
  faults: { atMs: number; fault: string; tookMs: number }[];
  /** ms from the first order sent to the last one answered 201. */
  placingMs: number;
  /** POSTs that had to be sent again (service down or failing over). */
  retriedPosts: number;
  allTerminalMs: number;
  statuses: Record<string, number>;
  cancelReasons: Record<string, number>;
  reserveStockMs: { p50: number; p90: number };
  problems: string[];
  pass: boolean;
}

/** Saga deadlines short enough for a run of minutes, long enough to outlast a restart. */
export const CHAOS_ENV: Partial<Record<ServiceName, Record<string, string>>> = {
  orders: {
    RESERVATION_TIMEOUT_MS: '30000',
    PAYMENT_TIMEOUT_MS: '20000',
    CAPTURE_TIMEOUT_MS: '8000',
    COMPENSATION_TIMEOUT_MS: '8000',
    RESERVATION_MARGIN_MS: '30000',
  },
  inventory: { RESERVATION_TTL_MS: '120000' },
  payments: { PROVIDER_TIMEOUT_MS: '1000', PROVIDER_RETRY_BASE_MS: '20', PROVIDER_RETRY_MAX_MS: '100' },
};

type Fault = { name: string; run: () => Promise<void> };

function planFaults(o: ChaosOptions, rng: Random, platform: ProcessPlatform): Fault[] {
  const faults: Fault[] = [];
  const victims: ServiceName[] = [];
  while (victims.length < o.kills) victims.push(...rng.shuffle(KILLABLE));
  for (const victim of victims.slice(0, o.kills)) {
    const downMs = rng.int(200, 2_000);
    faults.push({
      name: `kill -9 ${victim}, restarted after ${downMs} ms`,
      run: async () => {
        await platform.kill(victim);
        await new Promise((r) => setTimeout(r, downMs));
        await platform.restart(victim);
      },
    });
  }
  for (let i = 0; i < o.brokerOutages; i++) {
    const broker = rng.int(1, 3);
    faults.push({
      name: `Kafka broker ${broker} down for ${o.brokerOutageMs} ms`,
      run: () => platform.brokerOutage(broker, o.brokerOutageMs),
    });
  }
  if (o.redisFailover) {
    const pick = rng.next();
    faults.push({
      name: 'Redis master killed',
      run: async () => {
        const victim = await platform.killRedisMaster(
          (masters) => masters[Math.floor(pick * masters.length)]!,
        );
        o.log(`  (Redis master ${victim} killed, cluster healthy again)`);
      },
    });
  }
  if (o.postgresFailover) {
    faults.push({
      name: 'Postgres primary killed, replica promoted',
      run: () => platform.failoverPostgres(),
    });
  }
  return rng.shuffle(faults);
}

/**
 * The chaos run: the platform in processes, buyers placing orders with random cards (some on
 * items that run out) while services are killed and restarted, a Kafka broker goes down, a Redis
 * master dies and Postgres fails over; then every order must end and every invariant hold.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const rng = new Random(o.seed);
  o.log(`chaos seed ${o.seed} (replay with SOUK_CHAOS_SEED=${o.seed})`);
  const platform = new ProcessPlatform({ failover: o.postgresFailover, env: CHAOS_ENV });
  let failed = true;
  try {
    const t0 = Date.now();
    await platform.start();
    o.log(`platform up in ${Date.now() - t0} ms (logs in ${platform.logDir})`);
    // One after the other: each is an argon2 hash, and a loaded machine has little to spare.
    const people: Buyer[] = [];
    for (let i = 0; i <= o.buyers; i++)
      people.push(await platform.register(i === 0 ? 'seller@chaos.test' : `buyer${i}@chaos.test`));
    const [seller, ...buyers] = people;
    // A catalogue wide enough that concurrent reservations seldom lock the same rows, and three
    // items with little stock that run out.
    const specs = Array.from({ length: 203 }, (_, i) => ({
      title: `chaos item ${i}`,
      priceCents: rng.int(100, 5_000),
      quantity: i >= 200 ? 8 : 100_000,
    }));
    const items: StockedItem[] = [];
    let nextSpec = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (nextSpec < specs.length) {
          const spec = specs[nextSpec++]!;
          const id = await platform.createItem(seller!.token, spec);
          items.push({
            id,
            priceCents: spec.priceCents,
            initialQuantity: spec.quantity,
            scarce: spec.quantity < 100,
          });
        }
      }),
    );
    const planned = planOrders(rng, o.orders, buyers, items);
    const faults = planFaults(o, rng, platform);
    const spanMs = (o.orders / o.ratePerSecond) * 1000;
    const offsets = faults.map((_, i) => ((i + 0.5 + (rng.next() - 0.5) * 0.6) * spanMs) / faults.length);

    const started = Date.now();
    const done: ChaosResult['faults'] = [];
    const injecting = (async () => {
      for (const [i, fault] of faults.entries()) {
        const wait = started + offsets[i]! - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const at = Date.now() - started;
        o.log(`  t+${(at / 1000).toFixed(1)}s ${fault.name}`);
        await fault.run();
        done.push({ atMs: at, fault: fault.name, tookMs: Date.now() - started - at });
      }
    })();
    const placed = await runWorkload(() => platform.url('orders'), planned, {
      ratePerSecond: o.ratePerSecond,
      maxInFlight: 32,
    });
    const lastPlacedAt = Math.max(...placed.map((p) => p.placedAt));
    o.log(`${placed.length} orders placed in ${lastPlacedAt - started} ms`);
    await injecting;
    const settled = await waitAllTerminal(platform, lastPlacedAt, o.terminalDeadlineMs);
    o.log(
      `all terminal ${settled.allTerminalMs} ms after the last placement: ${JSON.stringify(settled.statuses)}, cancelled: ${JSON.stringify(settled.cancelReasons)}, stock answered p50 ${settled.reserveStockMs.p50} ms p90 ${settled.reserveStockMs.p90} ms`,
    );
    await waitDownstream(platform, placed.length, 60_000);
    const problems = await checkInvariants(platform, placed, items);
    failed = problems.length > 0;
    if (failed) o.log(`logs kept in ${platform.logDir}:\n${platform.tails(8)}`);
    return {
      seed: o.seed,
      orders: placed.length,
      kills: o.kills,
      faults: done,
      placingMs: lastPlacedAt - started,
      retriedPosts: placed.filter((p) => p.attempts > 1).length,
      allTerminalMs: settled.allTerminalMs,
      statuses: settled.statuses,
      cancelReasons: settled.cancelReasons,
      reserveStockMs: settled.reserveStockMs,
      problems,
      pass: problems.length === 0,
    };
  } catch (error) {
    o.log(`logs kept in ${platform.logDir}:\n${platform.tails(8)}`);
    throw error;
  } finally {
    await platform.stop(failed || process.env['SOUK_CHAOS_KEEP_LOGS'] === '1');
  }
}
