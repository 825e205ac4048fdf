/**
 * The ledger's movements. Three accounts per payment: `customer` (the card holder's funds),
 * `hold` (authorized, not yet captured or released) and `merchant` (captured). Every movement is
 * a pair of entries of opposite sign, so each operation sums to zero and, per payment, the
 * balances are: hold = what is still authorized, merchant = captured − refunded,
 * customer = −(hold + merchant).
 */
export type Account = 'customer' | 'hold' | 'merchant';

export interface Entry {
  account: Account;
  amountCents: number;
}

function move(from: Account, to: Account, amountCents: number): Entry[] {
  if (amountCents === 0) return [];
  return [
    { account: from, amountCents: -amountCents },
    { account: to, amountCents },
  ];
}

export const movements = {
  authorize: (amountCents: number) => move('customer', 'hold', amountCents),
  /** Captures `capturedCents` and releases the rest of the authorization. */
  capture: (authorizedCents: number, capturedCents: number) => [
    ...move('hold', 'merchant', capturedCents),
    ...move('hold', 'customer', authorizedCents - capturedCents),
  ],
  void: (heldCents: number) => move('hold', 'customer', heldCents),
  refund: (amountCents: number) => move('merchant', 'customer', amountCents),
};

export function balances(entries: readonly Entry[]): Record<Account, number> {
  const result: Record<Account, number> = { customer: 0, hold: 0, merchant: 0 };
  for (const e of entries) result[e.account] += e.amountCents;
  return result;
}
