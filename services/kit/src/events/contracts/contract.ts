import type { z } from 'zod';
import type { EventEnvelope } from '../envelope.ts';
import { uuidv7 } from '../uuidv7.ts';

/** An aggregate and the topic its events go to (keyed by aggregate id, so one aggregate keeps its order). */
export interface Aggregate<A extends string = string> {
  /** The logical topic, e.g. `orders.events`. */
  topic: string;
  aggregateType: A;
}

export function defineAggregate<A extends string>(aggregateType: A, topic: string): Aggregate<A> {
  return { aggregateType, topic };
}

export interface EventContract<
  T extends string = string,
  V extends number = number,
  S extends z.ZodType = z.ZodType,
> {
  readonly type: T;
  readonly version: V;
  readonly aggregate: Aggregate;
  readonly data: S;
  /** `Type@version`, the contract's key in the registry and in snapshots. */
  readonly key: string;
  /** Builds a validated envelope; throws a ZodError when `data` breaks the contract. */
  create(aggregateId: string, data: z.input<S>, options?: { id?: string; occurredAt?: Date }): EventOf<this>;
}

/** The envelope type of a contract: `EventOf<typeof OrderPlaced>`. */
export type EventOf<C> =
  C extends EventContract<infer T, infer V, infer S> ? EventEnvelope<T, V, z.output<S>> : never;

export function defineEvent<T extends string, V extends number, S extends z.ZodType>(definition: {
  aggregate: Aggregate;
  type: T;
  version: V;
  data: S;
}): EventContract<T, V, S> {
  const contract: EventContract<T, V, S> = {
    ...definition,
    key: `${definition.type}@${definition.version}`,
    create(aggregateId, data, options = {}) {
      return {
        id: options.id ?? uuidv7(),
        type: definition.type,
        version: definition.version,
        occurredAt: (options.occurredAt ?? new Date()).toISOString(),
        aggregateType: definition.aggregate.aggregateType,
        aggregateId,
        data: definition.data.parse(data),
      } as EventOf<typeof contract>;
    },
  };
  return contract;
}
