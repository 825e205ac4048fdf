export type { CreateTopicPolicy, CreateTopicRequestView } from './api.ts';
export type { ApiName, KafkaAdminBroker, KafkaAdminBrokerOptions } from './server.ts';
export { startKafkaAdminBroker } from './server.ts';
export type { TopicSnapshot } from './topic-store.ts';
