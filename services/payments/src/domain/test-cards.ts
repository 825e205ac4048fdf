import { tokenizeCard } from '@souk/kit/payments/card-token';

/**
 * The simulated provider's test cards (documented in the README). Any other valid number is
 * approved. The provider only ever sees tokens, so it knows its cards by their tokens.
 */
export type CardBehaviour =
  | { kind: 'approve' }
  | { kind: 'decline'; reason: 'card_declined' | 'insufficient_funds' }
  /** The provider never answers within the provider timeout. */
  | { kind: 'hang' }
  /** The provider answers with a transient error to the first `failures` calls (every call: Infinity). */
  | { kind: 'error'; failures: number };

export const TEST_CARDS = {
  approve: '4242 4242 4242 4242',
  decline: '4000 0000 0000 0002',
  insufficientFunds: '4000 0000 0000 9995',
  timeout: '4000 0000 0000 0408',
  error: '4000 0000 0000 0119',
  /** Fails twice, then approves: within the default retry budget of three attempts. */
  flaky: '4000 0000 0000 0507',
} as const;

const behaviours: [string, CardBehaviour][] = [
  [TEST_CARDS.approve, { kind: 'approve' }],
  [TEST_CARDS.decline, { kind: 'decline', reason: 'card_declined' }],
  [TEST_CARDS.insufficientFunds, { kind: 'decline', reason: 'insufficient_funds' }],
  [TEST_CARDS.timeout, { kind: 'hang' }],
  [TEST_CARDS.error, { kind: 'error', failures: Number.POSITIVE_INFINITY }],
  [TEST_CARDS.flaky, { kind: 'error', failures: 2 }],
];

const byToken = new Map(behaviours.map(([number, behaviour]) => [tokenizeCard(number).token, behaviour]));

export function behaviourOf(token: string): CardBehaviour {
  return byToken.get(token) ?? { kind: 'approve' };
}
