/**
 * Bundles a workspace's entry points into one ESM file each, for a container image that needs
 * no node_modules and no TypeScript loader:
 *
 *   node --import tsx scripts/build/src/bundle.ts <workspace dir> <out dir>
 *
 * Entry points are `src/main.ts`, plus `src/migrate.ts` where a service has one; `entrypoint.mjs`
 * picks one (`migrate` as first argument runs the migrations). Packages that ship native code or
 * load files next to themselves at run time stay external: `<out>/package.json` names them at the
 * versions installed here, and the image build installs them.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from '@souk/harness/workspaces';
import { build, type Plugin } from 'esbuild';

/** Loaded at run time from their own directory: never bundled. */
export const EXTERNAL_PACKAGES = ['@node-rs/argon2', '@prisma/client', '.prisma/client'];

const ASSET_URL = /new URL\((['"])(\.{1,2}\/[^'"]+)\1,\s*import\.meta\.url\)/g;

/**
 * Files that code finds next to itself with `new URL('./x', import.meta.url)` (migrations,
 * schema snapshots) are copied into `<out>/assets/…` and the URL rewritten to point there, since
 * after bundling `import.meta.url` is the bundle's own location. Paths through a dot-folder
 * (local state such as .souk/) are left alone: they are never part of an image.
 */
function relocateAssets(outDir: string, root: string): Plugin {
  return {
    name: 'relocate-assets',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        const contents = source.replace(ASSET_URL, (whole, quote: string, rel: string) => {
          const target = path.resolve(path.dirname(args.path), rel);
          const fromRoot = path.relative(root, target);
          if (
            !existsSync(target) ||
            fromRoot.startsWith('..') ||
            fromRoot.split(path.sep).some((p) => p.startsWith('.'))
          )
            return whole;
          cpSync(target, path.join(outDir, 'assets', fromRoot), { recursive: true });
          const trailing = rel.endsWith('/') ? '/' : '';
          return `new URL(${quote}./assets/${fromRoot.split(path.sep).join('/')}${trailing}${quote}, import.meta.url)`;
        });
        return { contents, loader: 'ts' };
      });
    },
  };
}

/** The packages the bundle left external and really imports, at the versions installed here. */
function externalDependencies(
  workspaceDir: string,
  metafile: { outputs: Record<string, { imports: { path: string; external?: boolean }[] }> },
): Record<string, string> {
  const require = createRequire(path.join(workspaceDir, 'package.json'));
  const names = new Set<string>();
  for (const out of Object.values(metafile.outputs)) {
    for (const i of out.imports) {
      if (!i.external || i.path.startsWith('node:')) continue;
      const parts = i.path.split('/');
      const name = i.path.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
      if (EXTERNAL_PACKAGES.includes(name)) names.add(name);
    }
  }
  const deps: Record<string, string> = {};
  for (const name of [...names].sort()) {
    const manifest = require.resolve(`${name}/package.json`);
    deps[name] = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  }
  return deps;
}

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
    plugins: [relocateAssets(outDir, repoRoot)],
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: {
      js: "import { createRequire as __souk_cr } from 'node:module'; const require = __souk_cr(import.meta.url);",
    },
  });
  if (entries.some((e) => e.endsWith('migrate.ts'))) {
    // One image, two commands: `<image>` serves, `<image> migrate` applies the migrations.
    writeFileSync(
      path.join(outDir, 'entrypoint.mjs'),
      "if (process.argv[2] === 'migrate') await import('./migrate.mjs');\nelse await import('./main.mjs');\n",
    );
  }
  const dependencies = externalDependencies(workspaceDir, result.metafile);
  writeFileSync(
    path.join(outDir, 'package.json'),
    `${JSON.stringify({ type: 'module', private: true, dependencies }, null, 2)}\n`,
  );
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
