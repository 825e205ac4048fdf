import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';

export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');

/**
 * Compares a value with operator/test/golden/<name>.golden.yaml. With UPDATE_GOLDEN=1 the file is (re)written
 * instead; review the diff before committing it.
 */
export async function assertGolden(name: string, value: unknown): Promise<void> {
  const path = join(GOLDEN_DIR, `${name}.golden.yaml`);
  const text = stringify(value, { lineWidth: 0, sortMapEntries: true, aliasDuplicateObjects: false });
  if (process.env['UPDATE_GOLDEN'] === '1') {
    await mkdir(GOLDEN_DIR, { recursive: true });
    await writeFile(path, text);
    return;
  }
  const expected = await readFile(path, 'utf8').catch(() => undefined);
  if (expected === undefined) assert.unreachable(`missing ${path}: run with UPDATE_GOLDEN=1`);
  assert.fixture(
    text,
    expected as string,
    `${name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)`,
  );
}
