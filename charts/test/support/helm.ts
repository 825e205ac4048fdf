import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@souk/harness/workspaces';
import { parseAllDocuments } from 'yaml';

const exec = promisify(execFile);

export const helmBin = path.join(repoRoot, '.souk', 'bin', 'helm');
export const chartDir = (name: string) => path.join(repoRoot, 'charts', name);

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function helm(args: string[]): Promise<HelmResult> {
  try {
    const { stdout, stderr } = await exec(helmBin, args, { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  set?: readonly string[];
  values?: readonly string[];
  apiVersions?: readonly string[];
}

/** `helm template` of a chart; throws with helm's own message when it refuses. */
export async function render(chart: string, opts: RenderOptions = {}): Promise<K8sObject[]> {
  const args = [
    'template',
    opts.release ?? chart,
    chartDir(chart),
    '--namespace',
    opts.namespace ?? 'souk-system',
  ];
  args.push('--include-crds');
  for (const s of opts.set ?? []) args.push('--set', s);
  for (const v of opts.values ?? []) args.push('--values', v);
  for (const a of opts.apiVersions ?? []) args.push('--api-versions', a);
  const r = await helm(args);
  if (r.code !== 0) throw new Error(r.stderr.trim());
  return parseObjects(r.stdout);
}
