export { Bulkhead } from './bulkhead.ts';
export { describeMessage, replayDeadLetters, tail } from './cli.ts';
export { InvalidEventError, toMessage, validateEvent } from './codec.ts';
export { type CompatibilityIssue, checkCompatibility } from './compatibility.ts';
export {
  type ConsumeOutcome,
  type DeliveryInfo,
  EventConsumer,
  type EventConsumerOptions,
  type EventHandler,
  on,
  type TransactionRunner,
} from './consumer.ts';
export * from './contracts/index.ts';
export { deadLetter, revive } from './dead-letter.ts';
export { dlqTopicOf, type EventEnvelope, envelopeSchema, Header } from './envelope.ts';
export { brokersFromEnv, createKafka, orderedProducer } from './kafka.ts';
export { kafkaHealthCheck } from './kafka-health.ts';
export { type EventMetrics, eventMetrics } from './metrics.ts';
export { eventsMigrationSql, eventsMigrationsDir, migrateEvents } from './migrations.ts';
export { type AppendOptions, appendToOutbox, type SqlExecutor } from './outbox.ts';
export { OUTBOX_SHARDS, OutboxRelay, type OutboxRelayOptions, type OutboxRow } from './relay.ts';
export { type ContractCheck, checkContracts, jsonSchemaOf, publishSnapshots } from './snapshots.ts';
export { uuidv7 } from './uuidv7.ts';
