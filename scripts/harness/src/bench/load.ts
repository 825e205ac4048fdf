import { spawn } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LatencySummary, summarize } from './stats.ts';

const require = createRequire(import.meta.url);

export interface ThroughputOptions {
  connections?: number;
  seconds?: number;
  pipelining?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface ThroughputResult {
  requestsPerSecond: number;
  errors: number;
  non2xx: number;
  latencyP99Ms: number;
}

/**
 * Closed-loop throughput with autocannon, run as its own process so the load generator
 * does not share the event loop of an in-process server under test.
 */
export async function httpThroughput(url: string, opts: ThroughputOptions = {}): Promise<ThroughputResult> {
  const bin = require.resolve('autocannon/autocannon.js');
  const args = [
    bin,
    '--json',
    '-c',
    String(opts.connections ?? 50),
    '-d',
    String(opts.seconds ?? 5),
    '-p',
    String(opts.pipelining ?? 1),
    '-m',
    opts.method ?? 'GET',
  ];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}=${v}`);
  if (opts.body !== undefined) args.push('-b', opts.body);
  args.push(url);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`autocannon exited ${code}: ${stderr}`)),
    );
  });
  const r = JSON.parse(out) as {
    requests: { average: number };
    errors: number;
    non2xx: number;
    latency: { p99: number };
  };
  return {
    requestsPerSecond: r.requests.average,
    errors: r.errors,
    non2xx: r.non2xx,
    latencyP99Ms: r.latency.p99,
  };
}

export interface FixedRateOptions {
  rps: number;
  seconds: number;
  /** Requests answered before this many ms into the run are discarded (connection warm-up). */
  warmupMs?: number;
}

export interface FixedRateResult extends LatencySummary {
  sent: number;
  errors: number;
  achievedRps: number;
}

/**
 * Open-loop load at a fixed rate: each operation is started at its scheduled time whether or
 * not earlier ones have finished, and latency is counted from that scheduled time, so a stall
 * shows up in the percentiles instead of silently lowering the rate (no coordinated omission).
 */
export async function fixedRate(
  op: () => Promise<unknown>,
  opts: FixedRateOptions,
): Promise<FixedRateResult> {
  const total = Math.round(opts.rps * opts.seconds);
  const interval = 1000 / opts.rps;
  const warmup = opts.warmupMs ?? 0;
  const latencies: number[] = [];
  let errors = 0;
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const scheduled = start + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 1) await sleep(wait);
    // A wait under a timer's resolution is not slept, so an operation may start a little early: its
    // latency then counts from its start. A late start counts from the schedule, stall included.
    const from = Math.min(scheduled, performance.now());
    const p = op().then(
      () => {
        if (scheduled - start >= warmup) latencies.push(performance.now() - from);
      },
      () => {
        errors++;
      },
    );
    const tracked = p.finally(() => inflight.delete(tracked));
    inflight.add(tracked);
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  return { ...summarize(latencies), sent: total, errors, achievedRps: total / elapsed };
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** A GET over a keep-alive agent that rejects on a non-2xx status. */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: keepAlive, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(status);
        else reject(new Error(`GET ${url}: ${status}`));
      });
    });
    req.on('error', reject);
  });
}
