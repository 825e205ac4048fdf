/**
 * Bundles a workspace's entry points into one ESM file each, for a container image that needs
 * no node_modules and no TypeScript loader:
 *
 *   node --import tsx scripts/build/src/bundle.ts <workspace dir> <out dir>
 *
 * Entry points are `src/main.ts`, plus `src/migrate.ts` where a service has one. Packages that
 * ship native code or load files next to themselves at run time stay external and are copied
 * into `<out>/node_modules` by the image build.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/** Loaded at run time from their own directory: never bundled. */
export const EXTERNAL_PACKAGES = ['@node-rs/argon2', '@prisma/client', '.prisma/client'];

export interface BundleResult {
  outputs: { file: string; bytes: number }[];
}

export async function bundle(workspaceDir: string, outDir: string): Promise<BundleResult> {
  const entries = ['src/main.ts', 'src/migrate.ts']
    .map((e) => path.join(workspaceDir, e))
    .filter((e) => existsSync(e));
  if (entries.length === 0) throw new Error(`${workspaceDir} has no src/main.ts`);
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: entries,
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    external: EXTERNAL_PACKAGES,
    sourcemap: 'linked',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: {
      js: "import { createRequire as __souk_cr } from 'node:module'; const require = __souk_cr(import.meta.url);",
    },
  });
  writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
  return {
    outputs: Object.entries(result.metafile.outputs)
      .filter(([file]) => file.endsWith('.mjs'))
      .map(([file, o]) => ({ file: path.resolve(file), bytes: o.bytes })),
  };
}

if (process.argv[1] === import.meta.filename) {
  const [workspace, out] = process.argv.slice(2);
  if (!workspace || !out) {
    console.error('usage: bundle.ts <workspace dir> <out dir>');
    process.exit(2);
  }
  const r = await bundle(path.resolve(workspace), path.resolve(out));
  for (const o of r.outputs)
    console.log(`${path.relative(process.cwd(), o.file)}  ${(o.bytes / 1024).toFixed(0)} KiB`);
}
