import { spawn } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * Runs `prisma generate` offline. The CLI insists on downloading a native schema engine unless
 * PRISMA_SCHEMA_ENGINE_BINARY names an existing file; generating a client never executes it, so a
 * placeholder is enough. A real engine, when one is configured, is left in place.
 */
export async function generatePrismaClient(schemaPath: string): Promise<void> {
  const schema = resolve(schemaPath);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
    PRISMA_SCHEMA_ENGINE_BINARY: await schemaEngineBinary(),
  };
  const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, [cli, 'generate', '--schema', schema], {
      cwd: dirname(schema),
      env,
      stdio: 'inherit',
    });
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0 ? done() : fail(new Error(`prisma generate exited with ${code}`)),
    );
  });
}

async function schemaEngineBinary(): Promise<string> {
  const configured = process.env['PRISMA_SCHEMA_ENGINE_BINARY'];
  if (configured) {
    try {
      await access(configured);
      return configured;
    } catch {}
  }
  const dir = join(tmpdir(), 'souk-prisma');
  const placeholder = join(dir, 'schema-engine-unavailable');
  await mkdir(dir, { recursive: true });
  await writeFile(
    placeholder,
    '#!/bin/sh\necho "no schema engine offline; use the kit migrate command" >&2\nexit 1\n',
    {
      mode: 0o755,
    },
  );
  return placeholder;
}
