import { eventsMigrationsDir } from '../events/migrations.ts';
import {
  type Database,
  type DatabaseOptions,
  openDatabase,
  type PrismaClientClass,
  type PrismaClientLike,
} from './database.ts';
import { migrate } from './migrate.ts';

export type OpenServiceDatabaseOptions = Omit<
  DatabaseOptions,
  'replicaUrls' | 'migrationsDir' | 'migrate' | 'applicationName'
> & {
  /** The replicas' read endpoint; unset, reads go to the primary. */
  replicaUrl?: string | undefined;
};

/**
 * One service's database: the kit's event tables (outbox, inbox) next to the service's own
 * `prisma/migrations`, and its Prisma client on the primary and an optional replica. The service's
 * start, its deploy-time migrate command and its tests all reach the database through this.
 */
export interface ServiceDatabase<C> {
  readonly name: string;
  readonly migrationsDir: string;
  /** The kit's event tables, then the service's own migrations (idempotent). */
  migrate(databaseUrl: string, log?: (message: string) => void): Promise<void>;
  open(options: OpenServiceDatabaseOptions): Promise<Database<C>>;
  /**
   * The deploy-time migrate command (a Job or an init container): migrates DATABASE_URL, then exits
   * 0; exits 78 (EX_CONFIG) without DATABASE_URL and 1 when a migration fails.
   */
  migrateCommand(env?: NodeJS.ProcessEnv): Promise<never>;
}

export function serviceDatabase<C extends PrismaClientLike>(
  Client: PrismaClientClass<C>,
  options: { name: string; migrationsDir: string },
): ServiceDatabase<C> {
  const { name, migrationsDir } = options;
  const migrateBoth = async (databaseUrl: string, log?: (message: string) => void) => {
    const logged = log ? { log } : {};
    await migrate({ databaseUrl, migrationsDir: eventsMigrationsDir, ...logged });
    await migrate({ databaseUrl, migrationsDir, ...logged });
  };
  return {
    name,
    migrationsDir,
    migrate: migrateBoth,
    open({ replicaUrl, ...rest }) {
      return openDatabase(Client, {
        ...rest,
        ...(replicaUrl ? { replicaUrls: [replicaUrl] } : {}),
        applicationName: name,
        migrate: false,
      });
    },
    async migrateCommand(env = process.env) {
      const url = env['DATABASE_URL'];
      if (!url) {
        process.stderr.write('config: DATABASE_URL is required but not set\n');
        process.exit(78);
      }
      try {
        await migrateBoth(url, (message) => process.stdout.write(`${message}\n`));
        process.stdout.write(`${name}: migrations applied\n`);
        process.exit(0);
      } catch (error) {
        process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      }
    },
  };
}
