import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { baseConfig, ConfigError, loadConfig } from '../src/config.ts';
import { platformConfig } from '../src/db/config.ts';

const schema = baseConfig.extend(platformConfig.shape);
const env = {
  SERVICE_NAME: 'items',
  DATABASE_URL: 'postgres://app@db:5432/items',
  REDIS_NODES: 'redis-0:6379',
  KAFKA_BROKERS: 'kafka-0:9092',
};

test('the platform settings: defaults, and the replica only when set', () => {
  const config = loadConfig(schema, env);
  assert.is(config.DATABASE_REPLICA_URL, undefined);
  assert.is(config.DATABASE_POOL_SIZE, 10);
  assert.is(config.MIGRATE_ON_START, undefined);
  assert.is(config.REDIS_KEY_PREFIX, '');
  assert.is(config.KAFKA_TOPIC_PREFIX, '');
  const set = loadConfig(schema, {
    ...env,
    DATABASE_REPLICA_URL: 'postgres://app@db-r:5432/items',
    MIGRATE_ON_START: 'false',
    REDIS_KEY_PREFIX: 'staging:',
    KAFKA_TOPIC_PREFIX: 'staging.',
  });
  assert.is(set.DATABASE_REPLICA_URL, 'postgres://app@db-r:5432/items');
  assert.is(set.MIGRATE_ON_START, false);
  assert.is(set.REDIS_KEY_PREFIX, 'staging:');
  assert.is(set.KAFKA_TOPIC_PREFIX, 'staging.');
});

test('a bad value is reported per variable', () => {
  try {
    loadConfig(schema, {
      ...env,
      DATABASE_URL: 'db',
      REDIS_NODES: 'redis-0',
      REDIS_KEY_PREFIX: '{t}',
      KAFKA_BROKERS: undefined,
    });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ConfigError);
    const lines = (err as ConfigError).lines.join('\n');
    assert.match(lines, /DATABASE_URL is invalid/);
    assert.match(lines, /REDIS_NODES is invalid/);
    assert.match(lines, /REDIS_KEY_PREFIX is invalid: no braces/);
    assert.match(lines, /KAFKA_BROKERS is required but not set/);
  }
});

test.run();
