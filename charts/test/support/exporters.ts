/**
 * The exporters the souk chart runs as sidecars, here from Debian's packages (the same versions as the
 * chart's images): postgres_exporter for each PostgreSQL instance, and one redis_exporter asked for
 * every Redis Cluster node through its multi-target /scrape endpoint.
 */
import path from 'node:path';
import { freePorts } from '@souk/harness/infra/ports';
import { type ProcessRef, spawnDaemon, terminate, waitFor } from '@souk/harness/infra/processes';

export const POSTGRES_EXPORTER_BIN = '/usr/bin/prometheus-postgres-exporter';
export const REDIS_EXPORTER_BIN = '/usr/bin/prometheus-redis-exporter';

export interface Exporters {
  /** host:port of each postgres_exporter, in the order of the URLs given. */
  postgres: string[];
  /** host:port of the redis_exporter (scrape it at /scrape?target=redis://node). */
  redis: string;
  stop(): Promise<void>;
}

function withSslDisabled(url: string): string {
  const u = new URL(url);
  u.pathname = '/postgres';
  u.searchParams.set('sslmode', 'disable');
  return u.toString();
}

export async function startExporters(opts: {
  dir: string;
  postgresUrls: readonly string[];
  /** postgres_exporter's extra queries (the chart's files/postgres-exporter-queries.yaml). */
  postgresQueries: string;
}): Promise<Exporters> {
  const ports = await freePorts(opts.postgresUrls.length + 1);
  const refs: ProcessRef[] = [];
  const stop = () => terminate(refs);
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  try {
    opts.postgresUrls.forEach((url, i) => {
      refs.push(
        spawnDaemon(
          POSTGRES_EXPORTER_BIN,
          [
            `--web.listen-address=${addresses[i]}`,
            `--extend.query-path=${opts.postgresQueries}`,
            '--log.level=warn',
          ],
          path.join(opts.dir, `postgres-exporter-${i}.log`),
          {
            dieWithParent: 'SIGTERM',
            env: { PATH: process.env['PATH'], DATA_SOURCE_NAME: withSslDisabled(url) },
          },
        ),
      );
    });
    const redis = addresses.at(-1)!;
    refs.push(
      spawnDaemon(
        REDIS_EXPORTER_BIN,
        [`-web.listen-address=${redis}`, '-is-cluster', '-redis-only-metrics'],
        path.join(opts.dir, 'redis-exporter.log'),
        { dieWithParent: 'SIGTERM', env: { PATH: process.env['PATH'] } },
      ),
    );
    for (const a of addresses) {
      await waitFor(
        `the exporter on ${a}`,
        async () => (await fetch(`http://${a}/`).catch(() => undefined)) !== undefined,
        10_000,
        25,
      );
    }
    return { postgres: addresses.slice(0, -1), redis, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
