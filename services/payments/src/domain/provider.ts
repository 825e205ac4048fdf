import { sleep } from '@souk/kit';
import { behaviourOf } from './test-cards.ts';

/** A transient provider failure (a 5xx, a dropped connection): worth another attempt. */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}

export type AuthorizationAnswer =
  | { approved: true; authorizationCode: string }
  | { approved: false; reason: 'card_declined' | 'insufficient_funds' };

export interface AuthorizationRequest {
  cardToken: string;
  amountCents: number;
  currency: string;
  /** The saga step: a real provider takes it as the idempotency key of the call. */
  idempotencyKey: string;
}

/**
 * The simulated card provider. Its answers depend only on the card token and the attempt number,
 * so tests are deterministic. It keeps no state: the ledger is Souk's record of what was held,
 * captured, released and refunded, and capture, void and refund always succeed here.
 */
export class SimulatedProvider {
  constructor(private readonly latencyMs = 0) {}

  async authorize(
    request: AuthorizationRequest,
    attempt: number,
    signal: AbortSignal,
  ): Promise<AuthorizationAnswer> {
    await this.#latency(signal);
    const behaviour = behaviourOf(request.cardToken);
    switch (behaviour.kind) {
      case 'approve':
        return { approved: true, authorizationCode: request.idempotencyKey.slice(-6).toUpperCase() };
      case 'decline':
        return { approved: false, reason: behaviour.reason };
      case 'error':
        if (attempt <= behaviour.failures) throw new ProviderUnavailableError('provider answered 503');
        return { approved: true, authorizationCode: request.idempotencyKey.slice(-6).toUpperCase() };
      case 'hang':
        // Answers only when the caller gives up (its timeout aborts the signal).
        await new Promise<never>((_, reject) => {
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
        throw new Error('unreachable');
    }
  }

  /** Capture, void and refund: acknowledged after the simulated latency. */
  async settle(signal: AbortSignal): Promise<void> {
    await this.#latency(signal);
  }

  async #latency(signal: AbortSignal): Promise<void> {
    if (this.latencyMs > 0) await sleep(this.latencyMs, signal);
  }
}
