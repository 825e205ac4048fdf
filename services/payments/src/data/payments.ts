import type { Account, Entry } from '../domain/ledger.ts';
import type { PaymentsDb, Prisma, Tx } from './database.ts';

export type PaymentStatus = 'authorized' | 'declined' | 'failed' | 'voided' | 'captured';
export type OperationKind = 'authorize' | 'capture' | 'void' | 'refund';
export type OperationResult = 'succeeded' | 'declined' | 'failed' | 'rejected';

export interface Payment {
  id: string;
  orderId: string;
  userId: string;
  status: PaymentStatus;
  currency: string;
  requestedCents: number;
  authorizedCents: number;
  capturedCents: number;
  refundedCents: number;
  cardLast4: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface Operation {
  id: string;
  stepId: string;
  orderId: string;
  paymentId: string | null;
  kind: OperationKind;
  result: OperationResult;
  reason: string | null;
  amountCents: number;
  attempts: number;
  outcomeType: string;
  outcome: Record<string, unknown>;
  createdAt: Date;
}

export interface LedgerRow extends Entry {
  id: number;
  operationId: string;
  currency: string;
  createdAt: Date;
}

type PaymentRow = Awaited<ReturnType<Tx['payment']['findUniqueOrThrow']>>;
type OperationRow = Awaited<ReturnType<Tx['paymentOperation']['findUniqueOrThrow']>>;

const toPayment = (r: PaymentRow): Payment => ({
  id: r.id,
  orderId: r.orderId,
  userId: r.userId,
  status: r.status,
  currency: r.currency,
  requestedCents: Number(r.requestedCents),
  authorizedCents: Number(r.authorizedCents),
  capturedCents: Number(r.capturedCents),
  refundedCents: Number(r.refundedCents),
  cardLast4: r.cardLast4,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const toOperation = (r: OperationRow): Operation => ({
  id: r.id,
  stepId: r.stepId,
  orderId: r.orderId,
  paymentId: r.paymentId,
  kind: r.kind,
  result: r.result,
  reason: r.reason,
  amountCents: Number(r.amountCents),
  attempts: r.attempts,
  outcomeType: r.outcomeType,
  outcome: r.outcome as Record<string, unknown>,
  createdAt: r.createdAt,
});

/** The ledger's tables, inside the caller's transaction. */
export const paymentsRepository = {
  /**
   * Serialises every step of one order until the transaction ends, also before the order has a
   * payment row to lock (two authorizations racing for one order).
   */
  async lockOrder(tx: Tx, orderId: string): Promise<void> {
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(hashtext($1))', orderId);
  },

  async operationOfStep(tx: Tx, stepId: string): Promise<Operation | undefined> {
    const row = await tx.paymentOperation.findUnique({ where: { stepId } });
    return row ? toOperation(row) : undefined;
  },

  async paymentOfOrder(tx: Tx, orderId: string): Promise<Payment | undefined> {
    const row = await tx.payment.findUnique({ where: { orderId } });
    return row ? toPayment(row) : undefined;
  },

  async insertPayment(
    tx: Tx,
    p: Omit<Payment, 'createdAt' | 'updatedAt' | 'capturedCents' | 'refundedCents'> & { cardToken: string },
  ): Promise<void> {
    await tx.payment.create({
      data: {
        id: p.id,
        orderId: p.orderId,
        userId: p.userId,
        status: p.status,
        currency: p.currency,
        requestedCents: BigInt(p.requestedCents),
        authorizedCents: BigInt(p.authorizedCents),
        cardToken: p.cardToken,
        cardLast4: p.cardLast4,
      },
    });
  },

  async updatePayment(
    tx: Tx,
    id: string,
    changes: { status?: PaymentStatus; capturedCents?: number; refundedCents?: number },
  ): Promise<void> {
    await tx.payment.update({
      where: { id },
      data: {
        ...(changes.status ? { status: changes.status } : {}),
        ...(changes.capturedCents !== undefined ? { capturedCents: BigInt(changes.capturedCents) } : {}),
        ...(changes.refundedCents !== undefined ? { refundedCents: BigInt(changes.refundedCents) } : {}),
        updatedAt: new Date(),
      },
    });
  },

  /** The operation and its ledger entries (in the payment's currency). */
  async record(
    tx: Tx,
    op: Omit<Operation, 'createdAt'>,
    entries: readonly Entry[] = [],
    currency?: string,
  ): Promise<void> {
    await tx.paymentOperation.create({
      data: {
        id: op.id,
        stepId: op.stepId,
        orderId: op.orderId,
        paymentId: op.paymentId,
        kind: op.kind,
        result: op.result,
        reason: op.reason,
        amountCents: BigInt(op.amountCents),
        attempts: op.attempts,
        outcomeType: op.outcomeType,
        outcome: op.outcome as Prisma.InputJsonValue,
      },
    });
    if (entries.length === 0) return;
    if (!op.paymentId || !currency) throw new Error('ledger entries need a payment and its currency');
    await tx.ledgerEntry.createMany({
      data: entries.map((e) => ({
        operationId: op.id,
        paymentId: op.paymentId!,
        account: e.account,
        amountCents: BigInt(e.amountCents),
        currency,
      })),
    });
  },
};

export interface OrderLedger {
  payment: Payment | undefined;
  operations: Operation[];
  entries: LedgerRow[];
}

/** Everything recorded for an order, for operators (from the replica when there is one). */
export async function readOrderLedger(db: PaymentsDb, orderId: string): Promise<OrderLedger> {
  const [payment, operations] = await Promise.all([
    db.client.payment.findUnique({ where: { orderId } }),
    db.client.paymentOperation.findMany({ where: { orderId }, orderBy: { createdAt: 'asc' } }),
  ]);
  const entries = payment
    ? await db.client.ledgerEntry.findMany({ where: { paymentId: payment.id }, orderBy: { id: 'asc' } })
    : [];
  return {
    payment: payment ? toPayment(payment) : undefined,
    operations: operations.map(toOperation),
    entries: entries.map((e) => ({
      id: Number(e.id),
      operationId: e.operationId,
      account: e.account as Account,
      amountCents: Number(e.amountCents),
      currency: e.currency,
      createdAt: e.createdAt,
    })),
  };
}
