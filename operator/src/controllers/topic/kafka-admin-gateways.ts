import { KafkaAdminGateway, type KafkaAdminGatewayOptions } from './kafka-admin-gateway.ts';

/** One gateway, and so one admin connection, per set of bootstrap servers, reused by every Topic. */
export class KafkaAdminGateways {
  private readonly gateways = new Map<string, KafkaAdminGateway>();

  constructor(private readonly defaults: Omit<KafkaAdminGatewayOptions, 'brokers'> = {}) {}

  for(brokers: readonly string[]): KafkaAdminGateway {
    const key = [...new Set(brokers.map((b) => b.trim()))].sort().join(',');
    let gateway = this.gateways.get(key);
    if (!gateway) {
      gateway = new KafkaAdminGateway({ ...this.defaults, brokers: key.split(',') });
      this.gateways.set(key, gateway);
    }
    return gateway;
  }

  async close(): Promise<void> {
    const all = [...this.gateways.values()];
    this.gateways.clear();
    await Promise.all(all.map((g) => g.close()));
  }
}
