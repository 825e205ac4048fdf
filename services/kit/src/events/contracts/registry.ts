import type { EventContract } from './contract.ts';
import { inventoryEvents } from './inventory.ts';
import { orderEvents } from './orders.ts';
import { paymentEvents } from './payments.ts';
import { userEvents } from './users.ts';

/** Every published contract, by the file (aggregate topic) it is declared in. */
export const contractsByFile = {
  users: userEvents,
  inventory: inventoryEvents,
  orders: orderEvents,
  payments: paymentEvents,
} as const satisfies Record<string, readonly EventContract[]>;

/** Looks contracts up by `type` and `version`: the schema registry, in code. */
export class ContractRegistry {
  readonly #byKey = new Map<string, EventContract>();

  constructor(contracts: Iterable<EventContract>) {
    for (const contract of contracts) {
      if (this.#byKey.has(contract.key)) throw new Error(`event contract ${contract.key} is defined twice`);
      this.#byKey.set(contract.key, contract);
    }
  }

  get(type: string, version: number): EventContract | undefined {
    return this.#byKey.get(`${type}@${version}`);
  }

  all(): EventContract[] {
    return [...this.#byKey.values()];
  }
}

export const registry = new ContractRegistry(Object.values(contractsByFile).flat());
