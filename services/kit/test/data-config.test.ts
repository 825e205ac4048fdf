import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { baseConfig, ConfigError, loadConfig } from '../src/config.ts';
import { databaseConfig, redisConfig } from '../src/db/config.ts';

const schema = baseConfig.extend({ ...databaseConfig.shape, ...redisConfig.shape });
const env = {
  SERVICE_NAME: 'items',
  DATABASE_URL: 'postgres://app@db:5432/items',
  REDIS_NODES: 'redis-0:6379',
};

test('replica URLs are a comma list, empty when unset', () => {
  assert.equal(loadConfig(schema, env).DATABASE_REPLICA_URLS, []);
  const config = loadConfig(schema, {
    ...env,
    DATABASE_REPLICA_URLS: 'postgres://app@db-r0:5432/items, postgres://app@db-r1:5432/items',
  });
  assert.equal(config.DATABASE_REPLICA_URLS, [
    'postgres://app@db-r0:5432/items',
    'postgres://app@db-r1:5432/items',
  ]);
  assert.is(config.DATABASE_POOL_SIZE, 10);
});

test('a bad URL or node list is reported per variable', () => {
  try {
    loadConfig(schema, { ...env, DATABASE_URL: 'db', REDIS_NODES: 'redis-0' });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ConfigError);
    const lines = (err as ConfigError).lines.join('\n');
    assert.match(lines, /DATABASE_URL is invalid/);
    assert.match(lines, /REDIS_NODES is invalid/);
  }
});

test.run();
