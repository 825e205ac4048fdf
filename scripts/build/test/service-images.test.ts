import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from '@souk/harness/infra/ports';
import { waitFor } from '@souk/harness/infra/processes';
import { useSuite } from '@souk/harness/suite';
import { repoRoot } from '@souk/harness/workspaces';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundle } from '../src/bundle.ts';

const services = ['users', 'inventory', 'orders', 'payments', 'notifications'].filter((s) =>
  existsSync(path.join(repoRoot, 'services', s, 'src', 'migrate.ts')),
);

/** The packages the bundle declares, linked from this checkout as the image would install them. */
function linkDependencies(out: string, workspace: string): void {
  const { dependencies } = JSON.parse(readFileSync(path.join(out, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const require = createRequire(path.join(workspace, 'package.json'));
  for (const name of Object.keys(dependencies)) {
    const target = path.dirname(require.resolve(`${name}/package.json`));
    mkdirSync(path.dirname(path.join(out, 'node_modules', name)), { recursive: true });
    symlinkSync(target, path.join(out, 'node_modules', name));
  }
}

function run(out: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // Run from the bundle's folder with a bare environment, away from the repository's node_modules.
  return spawn(process.execPath, [path.join(out, 'entrypoint.mjs'), ...args], {
    cwd: out,
    env: { PATH: process.env['PATH'], ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

const exitOf = (p: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (p.exitCode !== null) resolve(p.exitCode);
    else p.once('exit', (code) => resolve(code));
  });

for (const name of services) {
  test(`${name}: the image's bundle migrates, serves with the chart's environment, and stops on SIGTERM`, async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), `souk-image-${name}-`));
    const s = await useSuite(`image-${name}`);
    let server: ChildProcess | undefined;
    try {
      const workspace = path.join(repoRoot, 'services', name);
      await bundle(workspace, out);
      linkDependencies(out, workspace);
      const [port] = await freePorts(1);
      const env: NodeJS.ProcessEnv = {
        NODE_ENV: 'production',
        SERVICE_NAME: name,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        DATABASE_URL: s.databaseUrl,
        DATABASE_REPLICA_URL: s.replicaDatabaseUrl,
        REDIS_NODES: s.redisNodes.map((n) => `${n.host}:${n.port}`).join(','),
        KAFKA_BROKERS: s.kafkaBrokers.join(','),
        // As the Helm chart gives them: every other service's address (nothing listens there here).
        ...Object.fromEntries(
          ['users', 'inventory', 'orders', 'payments', 'notifications'].map((o) => [
            `${o.toUpperCase()}_URL`,
            'http://127.0.0.1:9',
          ]),
        ),
        JWT_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' })
          .privateKey.export({ type: 'sec1', format: 'pem' })
          .toString(),
      };
      const migrate = run(out, ['migrate'], env);
      let stderr = '';
      migrate.stderr?.on('data', (d) => {
        stderr += d;
      });
      assert.is(await exitOf(migrate), 0, `migrate failed: ${stderr}`);

      server = run(out, [], env);
      const url = `http://127.0.0.1:${port}`;
      await waitFor(
        `${name} to be ready`,
        async () => (await fetch(`${url}/livez`).catch(() => undefined))?.ok,
        30_000,
        100,
      );
      const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string };
      assert.match(openapi.openapi, /^3\.1/);
      server.kill('SIGTERM');
      assert.is(await exitOf(server), 0, 'graceful exit');
    } finally {
      if (server && server.exitCode === null) server.kill('SIGKILL');
      await s.close();
      rmSync(out, { recursive: true, force: true });
    }
  });
}

test.run();
