/**
 * `npm test`'s runner: checks (setup, lint, typecheck), then every workspace's uvu files, each in
 * its own process group against one shared infrastructure, and the closing `N passed, N failed`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ensureInfra, type InfraHandle } from './infra.ts';
import { killGroup, leftoverProcesses } from './process-group.ts';
import { type FileOutcome, outcomeOf } from './test-report.ts';
import { findFiles, listWorkspaces, repoRoot } from './workspaces.ts';

const FILE_TIMEOUT_MS = Number(process.env.SOUK_TEST_FILE_TIMEOUT_MS ?? 8 * 60_000);
const JOBS = Math.max(1, Number(process.env.SOUK_TEST_JOBS ?? 2));

/** Process groups of the checks and test files running now, killed if the runner is interrupted. */
const live = new Set<number>();
let infra: InfraHandle | undefined;

interface Run {
  code: number | null;
  output: string;
  ms: number;
  problems: string[];
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number, env = process.env): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pgid = child.pid as number;
    live.add(pgid);
    let output = '';
    const problems: string[] = [];
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => {
      problems.push(`timed out after ${timeoutMs / 1000}s`);
      killGroup(pgid, 'SIGKILL');
    }, timeoutMs);
    child.on('close', async (code) => {
      clearTimeout(timer);
      live.delete(pgid);
      const left = await leftoverProcesses(pgid);
      if (left.length > 0) {
        problems.push(`left processes behind: ${left.join('; ')}`);
        killGroup(pgid, 'SIGKILL');
      }
      resolve({ code, output, ms: performance.now() - started, problems });
    });
  });
}

async function check(name: string, cmd: string, args: string[]): Promise<FileOutcome> {
  const r = await run(cmd, args, repoRoot, 10 * 60_000);
  const ok = r.code === 0 && r.problems.length === 0;
  console.log(`${ok ? '✔' : '✘'} ${name} (${(r.ms / 1000).toFixed(1)}s)`);
  if (!ok) console.log(indent(r.output));
  return { passed: ok ? 1 : 0, failed: ok ? 0 : 1, problems: r.problems };
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

async function testFile(file: string, env: NodeJS.ProcessEnv): Promise<FileOutcome> {
  const ws = listWorkspaces().find((w) => file.startsWith(`${w}/`)) ?? repoRoot;
  const r = await run(process.execPath, ['--import', 'tsx', file], ws, FILE_TIMEOUT_MS, env);
  const outcome = outcomeOf(r.code, r.output, r.problems);
  const ok = outcome.failed === 0;
  const rel = path.relative(repoRoot, file);
  console.log(
    `${ok ? '✔' : '✘'} ${rel}: ${outcome.passed} passed, ${outcome.failed} failed (${(r.ms / 1000).toFixed(1)}s)`,
  );
  if (!ok) {
    for (const p of outcome.problems) console.log(`    ${p}`);
    console.log(indent(r.output));
  }
  return outcome;
}

async function main(argv: string[]): Promise<number> {
  const only = argv.filter((a) => !a.startsWith('-')).map((a) => path.resolve(a));
  const skipChecks = argv.includes('--no-checks') || only.length > 0;
  const outcomes: FileOutcome[] = [];
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

  if (!skipChecks) {
    outcomes.push(await check('setup --check', 'bash', ['scripts/setup', '--check']));
    outcomes.push(await check('lint (biome)', npm, ['exec', '--', 'biome', 'check', '.']));
    outcomes.push(await check('typecheck', npm, ['run', '--silent', 'typecheck']));
  }

  const files = listWorkspaces()
    .flatMap((ws) => findFiles(path.join(ws, 'test'), '.test.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f === o || f.startsWith(`${o}/`)));

  try {
    const t0 = performance.now();
    infra = await ensureInfra();
    console.log(
      `infrastructure ${infra.startedHere ? 'started' : 'reused'} (${((performance.now() - t0) / 1000).toFixed(1)}s)`,
    );
    const env = { ...process.env, ...infra.env };
    const queue = [...files];
    const workers = Array.from({ length: Math.min(JOBS, queue.length) }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) outcomes.push(await testFile(f, env));
    });
    await Promise.all(workers);
  } catch (err) {
    console.log(`✘ infrastructure: ${(err as Error).stack ?? err}`);
    outcomes.push({ passed: 0, failed: 1, problems: [String(err)] });
  } finally {
    await infra?.release();
  }

  const passed = outcomes.reduce((n, o) => n + o.passed, 0);
  const failed = outcomes.reduce((n, o) => n + o.failed, 0);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const pgid of live) killGroup(pgid, 'SIGKILL');
    void (infra?.release() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

process.exitCode = await main(process.argv.slice(2));
