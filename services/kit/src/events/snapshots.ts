import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type CompatibilityIssue, checkCompatibility } from './compatibility.ts';
import type { EventContract } from './contracts/contract.ts';
import { contractsByFile } from './contracts/registry.ts';

/**
 * The published shape of every contract version, committed next to the contracts
 * (`contracts/snapshots/<file>.json`). A snapshot is written once, when its version is first
 * published, and never rewritten: the check compares today's schemas with it.
 */
type Snapshot = Record<string, unknown>;
type Files = Record<string, readonly EventContract[]>;

const dir = new URL('./contracts/snapshots/', import.meta.url);
const pathOf = (file: string) => fileURLToPath(new URL(`${file}.json`, dir));

export function jsonSchemaOf(contract: EventContract): unknown {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(contract.data) as Record<string, unknown>;
  return schema;
}

export function readSnapshot(file: string): Snapshot {
  try {
    return JSON.parse(readFileSync(pathOf(file), 'utf8')) as Snapshot;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

export interface ContractCheck {
  /** Versions with no snapshot yet (not published). */
  unpublished: string[];
  /** Published versions whose contract is gone: writers still running may produce them. */
  removed: string[];
  incompatible: { key: string; issues: CompatibilityIssue[] }[];
}

export function checkContracts(
  files: Files = contractsByFile,
  read: (file: string) => Snapshot = readSnapshot,
): ContractCheck {
  const result: ContractCheck = { unpublished: [], removed: [], incompatible: [] };
  for (const [file, contracts] of Object.entries(files)) {
    const snapshot = read(file);
    const keys = new Set(contracts.map((c) => c.key));
    for (const key of Object.keys(snapshot)) if (!keys.has(key)) result.removed.push(key);
    for (const contract of contracts) {
      if (!(contract.key in snapshot)) {
        result.unpublished.push(contract.key);
        continue;
      }
      const issues = checkCompatibility(snapshot[contract.key], jsonSchemaOf(contract));
      if (issues.length) result.incompatible.push({ key: contract.key, issues });
    }
  }
  return result;
}

/** Records versions not snapshotted yet; existing snapshots are never touched. Returns the added keys. */
export function publishSnapshots(files: Files = contractsByFile): string[] {
  const added: string[] = [];
  for (const [file, contracts] of Object.entries(files)) {
    const snapshot = readSnapshot(file);
    let changed = false;
    for (const contract of contracts) {
      if (contract.key in snapshot) continue;
      snapshot[contract.key] = jsonSchemaOf(contract);
      added.push(contract.key);
      changed = true;
    }
    if (!changed) continue;
    const sorted = Object.fromEntries(Object.entries(snapshot).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(pathOf(file), `${JSON.stringify(sorted, null, 2)}\n`);
  }
  return added;
}
