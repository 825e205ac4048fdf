import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findFiles, listWorkspaces, repoRoot } from '../workspaces.ts';
import { type BenchSuite, runSuite } from './define.ts';
import type { Measurement } from './measurement.ts';
import { markdownReport } from './report.ts';
import { suiteChart } from './svg-chart.ts';

const outDir = path.join(repoRoot, 'bench', 'out');

function discover(): Map<string, string> {
  const suites = new Map<string, string>();
  for (const ws of listWorkspaces()) {
    for (const file of findFiles(path.join(ws, 'bench'), '.bench.ts')) {
      suites.set(path.basename(file, '.bench.ts'), file);
    }
  }
  return suites;
}

/** Runs one suite in this process and writes bench/out/<suite>.json. */
async function runOne(file: string): Promise<void> {
  const mod = (await import(file)) as { default: BenchSuite };
  const suite = mod.default;
  console.log(`bench ${suite.name}`);
  const results = await runSuite(suite, (m) => console.log(m));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, `${suite.name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(outDir, `${suite.name}.svg`), suiteChart(suite.name, results));
}

/** Each suite runs in its own process, so one suite's leftovers never skew the next. */
function runInChild(file: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--file', file], {
      stdio: 'inherit',
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--file' && argv[1]) {
    await runOne(argv[1]);
    return 0;
  }
  const available = discover();
  const wanted = argv.filter((a) => !a.startsWith('-'));
  for (const name of wanted) {
    if (!available.has(name)) {
      console.error(`unknown bench suite "${name}"; available: ${[...available.keys()].join(', ')}`);
      return 2;
    }
  }
  const names = wanted.length > 0 ? wanted : [...available.keys()];
  const collected = new Map<string, Measurement[] | Error>();
  let failed = 0;
  for (const name of names) {
    const code = await runInChild(available.get(name) as string);
    if (code !== 0) {
      failed++;
      collected.set(name, new Error(`exited with code ${code}`));
      continue;
    }
    collected.set(name, JSON.parse(readFileSync(path.join(outDir, `${name}.json`), 'utf8')) as Measurement[]);
  }
  if (wanted.length === 0) {
    writeFileSync(path.join(outDir, 'report.md'), markdownReport(collected));
    console.log(`report: ${path.relative(repoRoot, path.join(outDir, 'report.md'))}`);
  }
  const figures = [...collected.values()].flatMap((r) => (r instanceof Error ? [] : r));
  const missed = figures.filter((m) => m.target && !m.pass);
  console.log(
    `${figures.length} figures, ${figures.filter((m) => m.target).length - missed.length} targets met, ${missed.length} missed${failed ? `, ${failed} suites failed` : ''}`,
  );
  for (const m of missed) console.log(`  missed: ${m.name} = ${m.value} ${m.unit} (${m.target})`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
