/**
 * The topic-level configs a Kafka 3.x broker knows, with their defaults and validators, parsed the way
 * Kafka's ConfigDef parses them. An unknown name or a value that does not parse is INVALID_CONFIG.
 */

type ConfigType = 'BOOLEAN' | 'INT' | 'LONG' | 'DOUBLE' | 'STRING' | 'LIST';

interface ConfigDefinition {
  readonly type: ConfigType;
  readonly defaultValue: string;
  /** The broker config the default comes from, reported as a synonym. */
  readonly brokerSynonym?: string;
  readonly atLeast?: bigint;
  readonly between?: readonly [number, number];
  readonly oneOf?: readonly string[];
  /** For LIST: every element must be one of these. */
  readonly eachOneOf?: readonly string[];
  readonly sensitive?: boolean;
}

const LONG_MAX = '9223372036854775807';
const INT_MIN = -2147483648n;
const INT_MAX = 2147483647n;
const LONG_MIN = -9223372036854775808n;
const LONG_MAX_N = 9223372036854775807n;

const definitions: Record<string, ConfigDefinition> = {
  'cleanup.policy': {
    type: 'LIST',
    defaultValue: 'delete',
    brokerSynonym: 'log.cleanup.policy',
    eachOneOf: ['compact', 'delete'],
  },
  'compression.type': {
    type: 'STRING',
    defaultValue: 'producer',
    brokerSynonym: 'compression.type',
    oneOf: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'],
  },
  'delete.retention.ms': {
    type: 'LONG',
    defaultValue: '86400000',
    brokerSynonym: 'log.cleaner.delete.retention.ms',
    atLeast: 0n,
  },
  'file.delete.delay.ms': {
    type: 'LONG',
    defaultValue: '60000',
    brokerSynonym: 'log.segment.delete.delay.ms',
    atLeast: 0n,
  },
  'flush.messages': {
    type: 'LONG',
    defaultValue: LONG_MAX,
    brokerSynonym: 'log.flush.interval.messages',
    atLeast: 1n,
  },
  'flush.ms': { type: 'LONG', defaultValue: LONG_MAX, brokerSynonym: 'log.flush.interval.ms', atLeast: 0n },
  'follower.replication.throttled.replicas': { type: 'LIST', defaultValue: '' },
  'index.interval.bytes': {
    type: 'INT',
    defaultValue: '4096',
    brokerSynonym: 'log.index.interval.bytes',
    atLeast: 0n,
  },
  'leader.replication.throttled.replicas': { type: 'LIST', defaultValue: '' },
  'local.retention.bytes': {
    type: 'LONG',
    defaultValue: '-2',
    brokerSynonym: 'log.local.retention.bytes',
    atLeast: -2n,
  },
  'local.retention.ms': {
    type: 'LONG',
    defaultValue: '-2',
    brokerSynonym: 'log.local.retention.ms',
    atLeast: -2n,
  },
  'max.compaction.lag.ms': {
    type: 'LONG',
    defaultValue: LONG_MAX,
    brokerSynonym: 'log.cleaner.max.compaction.lag.ms',
    atLeast: 1n,
  },
  'max.message.bytes': {
    type: 'INT',
    defaultValue: '1048588',
    brokerSynonym: 'message.max.bytes',
    atLeast: 0n,
  },
  'message.timestamp.type': {
    type: 'STRING',
    defaultValue: 'CreateTime',
    brokerSynonym: 'log.message.timestamp.type',
    oneOf: ['CreateTime', 'LogAppendTime'],
  },
  'min.cleanable.dirty.ratio': {
    type: 'DOUBLE',
    defaultValue: '0.5',
    brokerSynonym: 'log.cleaner.min.cleanable.ratio',
    between: [0, 1],
  },
  'min.compaction.lag.ms': {
    type: 'LONG',
    defaultValue: '0',
    brokerSynonym: 'log.cleaner.min.compaction.lag.ms',
    atLeast: 0n,
  },
  'min.insync.replicas': {
    type: 'INT',
    defaultValue: '1',
    brokerSynonym: 'min.insync.replicas',
    atLeast: 1n,
  },
  preallocate: { type: 'BOOLEAN', defaultValue: 'false', brokerSynonym: 'log.preallocate' },
  'remote.storage.enable': { type: 'BOOLEAN', defaultValue: 'false' },
  'retention.bytes': { type: 'LONG', defaultValue: '-1', brokerSynonym: 'log.retention.bytes' },
  'retention.ms': {
    type: 'LONG',
    defaultValue: '604800000',
    brokerSynonym: 'log.retention.ms',
    atLeast: -1n,
  },
  'segment.bytes': {
    type: 'INT',
    defaultValue: '1073741824',
    brokerSynonym: 'log.segment.bytes',
    atLeast: 14n,
  },
  'segment.index.bytes': {
    type: 'INT',
    defaultValue: '10485760',
    brokerSynonym: 'log.index.size.max.bytes',
    atLeast: 4n,
  },
  'segment.jitter.ms': { type: 'LONG', defaultValue: '0', brokerSynonym: 'log.roll.jitter.ms', atLeast: 0n },
  'segment.ms': { type: 'LONG', defaultValue: '604800000', brokerSynonym: 'log.roll.ms', atLeast: 1n },
  'unclean.leader.election.enable': {
    type: 'BOOLEAN',
    defaultValue: 'false',
    brokerSynonym: 'unclean.leader.election.enable',
  },
};

export const topicConfigNames: readonly string[] = Object.keys(definitions).sort();

export function topicConfigDefinition(name: string): ConfigDefinition | undefined {
  return Object.hasOwn(definitions, name) ? definitions[name] : undefined;
}

function parseInteger(name: string, value: string, type: 'INT' | 'LONG'): bigint | string {
  const trimmed = value.trim();
  if (!/^[+-]?\d+$/.test(trimmed))
    return `Invalid value ${value} for configuration ${name}: Not a number of type ${type}`;
  const n = BigInt(trimmed);
  const [min, max] = type === 'INT' ? [INT_MIN, INT_MAX] : [LONG_MIN, LONG_MAX_N];
  if (n < min || n > max)
    return `Invalid value ${value} for configuration ${name}: Not a number of type ${type}`;
  return n;
}

/** Returns the error message Kafka would give, or undefined when the value is valid. */
export function validateTopicConfig(name: string, value: string | null): string | undefined {
  const def = topicConfigDefinition(name);
  if (!def) return `Unknown topic config name: ${name}`;
  if (value === null) return `Null value not supported for topic configs: ${name}`;
  const invalid = (why: string) => `Invalid value ${value} for configuration ${name}: ${why}`;
  switch (def.type) {
    case 'BOOLEAN': {
      const v = value.trim().toLowerCase();
      if (v !== 'true' && v !== 'false') return invalid('Expected value to be either true or false');
      return undefined;
    }
    case 'INT':
    case 'LONG': {
      const n = parseInteger(name, value, def.type);
      if (typeof n === 'string') return n;
      if (def.atLeast !== undefined && n < def.atLeast)
        return invalid(`Value must be at least ${def.atLeast}`);
      return undefined;
    }
    case 'DOUBLE': {
      const v = value.trim();
      const n = Number(v);
      if (v === '' || Number.isNaN(n)) return invalid('Not a number of type DOUBLE');
      if (def.between && (n < def.between[0] || n > def.between[1])) {
        return invalid(`Value must be between ${def.between[0]} and ${def.between[1]}`);
      }
      return undefined;
    }
    case 'STRING': {
      if (def.oneOf && !def.oneOf.includes(value.trim()))
        return invalid(`String must be one of: ${def.oneOf.join(', ')}`);
      return undefined;
    }
    case 'LIST': {
      const items = value.trim() === '' ? [] : value.split(',').map((s) => s.trim());
      if (def.eachOneOf) {
        if (items.length === 0) return invalid('Empty list');
        const bad = items.find((i) => !def.eachOneOf?.includes(i));
        if (bad !== undefined) return invalid(`String must be one of: ${def.eachOneOf.join(', ')}`);
      }
      return undefined;
    }
  }
}
