import type {
  EventOf,
  PaymentCaptureRequested,
  PaymentCommandRejected,
  PaymentRefundRequested,
  PaymentRequested,
  PaymentVoidRequested,
} from '@souk/kit/events/index';
import { uuidv7 } from '@souk/kit/events/index';
import { AttemptTimeoutError, RetriesExhaustedError, retry } from '@souk/kit/retry';
import type { z } from 'zod';
import type { Tx } from '../data/database.ts';
import {
  type Operation,
  type OperationKind,
  type Payment,
  paymentsRepository as repo,
} from '../data/payments.ts';
import { publishOutcome } from '../events/outcomes.ts';
import { type Entry, movements } from './ledger.ts';
import { ProviderUnavailableError, type SimulatedProvider } from './provider.ts';

type RejectReason = z.output<(typeof PaymentCommandRejected)['data']>['reason'];

/** How a step ended, for the service's counters (`replayed`: the step had been applied before). */
export interface StepResult {
  command: OperationKind;
  result: string;
  replayed: boolean;
  outcomeType: string;
}

export interface ProviderPolicy {
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  onAttempt?(operation: OperationKind, result: 'ok' | 'error' | 'timeout'): void;
}

/**
 * The saga's payment steps. Each runs inside the transaction that records the command in the inbox
 * and holds the order's lock: it applies the step at most once (its step id is unique among the
 * operations), records the ledger movement, and appends the outcome to the outbox. A step already
 * applied is answered with the outcome it got the first time; nothing moves again.
 */
export class PaymentSteps {
  constructor(
    private readonly provider: SimulatedProvider,
    private readonly policy: ProviderPolicy,
  ) {}

  async authorize(tx: Tx, command: EventOf<typeof PaymentRequested>['data']): Promise<StepResult> {
    const { orderId, stepId } = command;
    const prior = await this.#begin(tx, orderId, stepId);
    if (prior) return prior;
    const existing = await repo.paymentOfOrder(tx, orderId);
    if (existing) return this.#reject(tx, 'authorize', command, existing, 'duplicate_payment');

    const paymentId = uuidv7();
    const base = {
      id: paymentId,
      orderId,
      userId: command.userId,
      currency: command.currency,
      requestedCents: command.amountCents,
      cardToken: command.card.token,
      cardLast4: command.card.last4,
    };
    const answer = await this.#callProvider('authorize', (attempt, signal) =>
      this.provider.authorize(
        {
          cardToken: command.card.token,
          amountCents: command.amountCents,
          currency: command.currency,
          idempotencyKey: stepId,
        },
        attempt,
        signal,
      ),
    );
    if (answer.kind === 'failed') {
      await repo.insertPayment(tx, { ...base, status: 'failed', authorizedCents: 0 });
      const data = { orderId, stepId, paymentId, reason: answer.reason, attempts: answer.attempts };
      return this.#finish(tx, 'authorize', 'failed', 'PaymentFailed', data, {
        paymentId,
        amountCents: command.amountCents,
        attempts: answer.attempts,
        reason: answer.reason,
      });
    }
    if (!answer.value.approved) {
      await repo.insertPayment(tx, { ...base, status: 'declined', authorizedCents: 0 });
      const data = { orderId, stepId, paymentId, reason: answer.value.reason };
      return this.#finish(tx, 'authorize', 'declined', 'PaymentDeclined', data, {
        paymentId,
        amountCents: command.amountCents,
        attempts: answer.attempts,
        reason: answer.value.reason,
      });
    }
    await repo.insertPayment(tx, { ...base, status: 'authorized', authorizedCents: command.amountCents });
    const data = {
      orderId,
      stepId,
      paymentId,
      amountCents: command.amountCents,
      currency: command.currency,
      last4: command.card.last4,
    };
    return this.#finish(tx, 'authorize', 'succeeded', 'PaymentAuthorized', data, {
      paymentId,
      amountCents: command.amountCents,
      attempts: answer.attempts,
      entries: movements.authorize(command.amountCents),
      currency: command.currency,
    });
  }

  async capture(tx: Tx, command: EventOf<typeof PaymentCaptureRequested>['data']): Promise<StepResult> {
    const { orderId, stepId, amountCents } = command;
    const prior = await this.#begin(tx, orderId, stepId);
    if (prior) return prior;
    const payment = await repo.paymentOfOrder(tx, orderId);
    const refusal = this.#check(payment, command.paymentId, command.currency);
    if (refusal) return this.#reject(tx, 'capture', command, payment, refusal);
    const p = payment!;
    if (p.status === 'captured') return this.#reject(tx, 'capture', command, p, 'already_captured');
    if (p.status !== 'authorized') return this.#reject(tx, 'capture', command, p, 'not_authorized');
    if (amountCents > p.authorizedCents) {
      return this.#reject(tx, 'capture', command, p, 'exceeds_authorization');
    }
    await this.#settle('capture');
    await repo.updatePayment(tx, p.id, { status: 'captured', capturedCents: amountCents });
    const data = { orderId, stepId, paymentId: p.id, amountCents, currency: p.currency };
    return this.#finish(tx, 'capture', 'succeeded', 'PaymentCaptured', data, {
      paymentId: p.id,
      amountCents,
      entries: movements.capture(p.authorizedCents, amountCents),
      currency: p.currency,
    });
  }

  async void(tx: Tx, command: EventOf<typeof PaymentVoidRequested>['data']): Promise<StepResult> {
    const { orderId, stepId } = command;
    const prior = await this.#begin(tx, orderId, stepId);
    if (prior) return prior;
    const payment = await repo.paymentOfOrder(tx, orderId);
    if (!payment) {
      const data = { orderId, stepId, paymentId: null, amountCents: 0, currency: null };
      return this.#finish(tx, 'void', 'succeeded', 'PaymentVoided', data, {
        paymentId: null,
        amountCents: 0,
      });
    }
    if (command.paymentId && command.paymentId !== payment.id) {
      return this.#reject(tx, 'void', command, payment, 'payment_mismatch');
    }
    if (payment.status === 'captured') return this.#reject(tx, 'void', command, payment, 'captured');
    const held = payment.status === 'authorized' ? payment.authorizedCents : 0;
    if (held > 0) await this.#settle('void');
    if (payment.status === 'authorized') await repo.updatePayment(tx, payment.id, { status: 'voided' });
    const data = { orderId, stepId, paymentId: payment.id, amountCents: held, currency: payment.currency };
    return this.#finish(tx, 'void', 'succeeded', 'PaymentVoided', data, {
      paymentId: payment.id,
      amountCents: held,
      entries: movements.void(held),
      currency: payment.currency,
    });
  }

  async refund(tx: Tx, command: EventOf<typeof PaymentRefundRequested>['data']): Promise<StepResult> {
    const { orderId, stepId, amountCents } = command;
    const prior = await this.#begin(tx, orderId, stepId);
    if (prior) return prior;
    const payment = await repo.paymentOfOrder(tx, orderId);
    const refusal = this.#check(payment, command.paymentId, command.currency);
    if (refusal) return this.#reject(tx, 'refund', command, payment, refusal);
    const p = payment!;
    if (p.status !== 'captured') return this.#reject(tx, 'refund', command, p, 'not_captured');
    if (amountCents > p.capturedCents - p.refundedCents) {
      return this.#reject(tx, 'refund', command, p, 'exceeds_captured');
    }
    await this.#settle('refund');
    const refundedTotalCents = p.refundedCents + amountCents;
    await repo.updatePayment(tx, p.id, { refundedCents: refundedTotalCents });
    const data = {
      orderId,
      stepId,
      paymentId: p.id,
      amountCents,
      currency: p.currency,
      refundedTotalCents,
      reason: command.reason,
    };
    return this.#finish(tx, 'refund', 'succeeded', 'PaymentRefunded', data, {
      paymentId: p.id,
      amountCents,
      entries: movements.refund(amountCents),
      currency: p.currency,
    });
  }

  /** Takes the order's lock, then answers a step applied before with its first outcome. */
  async #begin(tx: Tx, orderId: string, stepId: string): Promise<StepResult | undefined> {
    await repo.lockOrder(tx, orderId);
    const prior = await repo.operationOfStep(tx, stepId);
    if (!prior) return undefined;
    if (prior.orderId !== orderId) throw new Error(`step ${stepId} belongs to another order`);
    await publishOutcome(tx, prior.outcomeType, prior.orderId, prior.outcome);
    return {
      command: prior.kind,
      result: resultLabel(prior),
      replayed: true,
      outcomeType: prior.outcomeType,
    };
  }

  #check(payment: Payment | undefined, paymentId: string, currency: string): RejectReason | undefined {
    if (!payment) return 'no_payment';
    if (payment.id !== paymentId) return 'payment_mismatch';
    if (payment.currency !== currency) return 'currency_mismatch';
    return undefined;
  }

  #reject(
    tx: Tx,
    command: OperationKind,
    step: { orderId: string; stepId: string; amountCents?: number },
    payment: Payment | undefined,
    reason: RejectReason,
  ): Promise<StepResult> {
    const data = {
      orderId: step.orderId,
      stepId: step.stepId,
      paymentId: payment?.id ?? null,
      command,
      reason,
    };
    return this.#finish(tx, command, 'rejected', 'PaymentCommandRejected', data, {
      paymentId: payment?.id ?? null,
      amountCents: step.amountCents ?? 0,
      reason,
    });
  }

  async #finish(
    tx: Tx,
    kind: OperationKind,
    result: Operation['result'],
    outcomeType: string,
    data: Record<string, unknown>,
    op: {
      paymentId: string | null;
      amountCents: number;
      attempts?: number;
      reason?: string;
      entries?: Entry[];
      currency?: string;
    },
  ): Promise<StepResult> {
    const operation: Omit<Operation, 'createdAt'> = {
      id: uuidv7(),
      stepId: data['stepId'] as string,
      orderId: data['orderId'] as string,
      paymentId: op.paymentId,
      kind,
      result,
      reason: op.reason ?? null,
      amountCents: op.amountCents,
      attempts: op.attempts ?? 0,
      outcomeType,
      outcome: data,
    };
    await repo.record(tx, operation, op.entries, op.currency);
    await publishOutcome(tx, outcomeType, operation.orderId, data);
    return { command: kind, result: resultLabel(operation), replayed: false, outcomeType };
  }

  /** Capture, void and refund at the provider: transient errors retried like an authorization. */
  async #settle(kind: OperationKind): Promise<void> {
    const answer = await this.#callProvider(kind, (_attempt, signal) => this.provider.settle(signal));
    if (answer.kind === 'failed') throw new ProviderUnavailableError(`provider ${kind} ${answer.reason}`);
  }

  async #callProvider<T>(
    kind: OperationKind,
    call: (attempt: number, signal: AbortSignal) => Promise<T>,
  ): Promise<
    | { kind: 'answered'; value: T; attempts: number }
    | { kind: 'failed'; reason: 'provider_timeout' | 'provider_error'; attempts: number }
  > {
    const count = this.policy.onAttempt ?? (() => {});
    try {
      const { value, attempts } = await retry(call, {
        maxAttempts: this.policy.maxAttempts,
        baseMs: this.policy.retryBaseMs,
        maxMs: this.policy.retryMaxMs,
        timeoutMs: this.policy.timeoutMs,
        retryable: (error) => error instanceof ProviderUnavailableError,
        onRetry: () => count(kind, 'error'),
      });
      count(kind, 'ok');
      return { kind: 'answered', value, attempts };
    } catch (error) {
      if (error instanceof AttemptTimeoutError) {
        count(kind, 'timeout');
        return { kind: 'failed', reason: 'provider_timeout', attempts: error.attempts };
      }
      if (error instanceof RetriesExhaustedError) {
        count(kind, 'error');
        return { kind: 'failed', reason: 'provider_error', attempts: error.attempts };
      }
      throw error;
    }
  }
}

/** authorize: approved | declined | failed | rejected; the others: succeeded | rejected. */
function resultLabel(op: Pick<Operation, 'kind' | 'result'>): string {
  if (op.kind === 'authorize' && op.result === 'succeeded') return 'approved';
  return op.result;
}
