import assert from 'node:assert/strict';
import { test } from 'uvu';
import {
  CARD_TOKEN_PATTERN,
  InvalidCardNumberError,
  luhnValid,
  normalizeCardNumber,
  tokenizeCard,
} from '../src/payments/card-token.ts';

test('a card number becomes a stable token and its last four digits', () => {
  const a = tokenizeCard('4242 4242 4242 4242');
  const b = tokenizeCard('4242-4242-4242-4242');
  assert.deepEqual(a, b);
  assert.equal(a.last4, '4242');
  assert.match(a.token, CARD_TOKEN_PATTERN);
  assert.ok(!a.token.includes('424242'), 'the token does not spell the number');
  assert.notEqual(tokenizeCard('4000 0000 0000 0002').token, a.token);
});

test('malformed numbers are refused before anything is derived from them', () => {
  assert.throws(() => tokenizeCard('4242 4242 4242 4241'), InvalidCardNumberError);
  assert.throws(() => tokenizeCard('4242'), InvalidCardNumberError);
  assert.throws(() => tokenizeCard('4242x4242x4242x4242'), InvalidCardNumberError);
  assert.equal(normalizeCardNumber(' 4000 0000 0000 9995 '), '4000000000009995');
});

test('the Luhn check', () => {
  for (const n of ['4242424242424242', '4000000000000002', '4000000000009995', '5555555555554444']) {
    assert.ok(luhnValid(n), n);
  }
  assert.ok(!luhnValid('4000000000000003'));
});

test.run();
