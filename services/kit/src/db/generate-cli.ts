/**
 * Generates a workspace's Prisma client offline, e.g. as its `generate` npm script:
 *
 *   node --import tsx ../kit/src/db/generate-cli.ts prisma/schema.prisma
 */
import { generatePrismaClient } from './generate.ts';

const schema = process.argv[2] ?? 'prisma/schema.prisma';
generatePrismaClient(schema).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
