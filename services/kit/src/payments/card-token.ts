import { createHash } from 'node:crypto';

/**
 * Card numbers never travel between services: the edge that receives one (orders, at checkout)
 * turns it into a token and the last four digits, and only those go into events and databases.
 * Souk's provider is simulated, so the token is derived (a digest of the number) rather than issued
 * by a vault; the same number always gives the same token, which is how the simulated provider
 * recognises its test cards.
 */
export interface CardToken {
  /** `tok_` and 32 url-safe characters. */
  token: string;
  last4: string;
}

export class InvalidCardNumberError extends Error {
  override name = 'InvalidCardNumberError';
}

export const CARD_TOKEN_PATTERN = /^tok_[A-Za-z0-9_-]{32}$/;

/** Digits only: spaces and dashes (as people type them) are dropped; 12 to 19 digits, Luhn-valid. */
export function normalizeCardNumber(input: string): string {
  const digits = input.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(digits)) throw new InvalidCardNumberError('a card number has 12 to 19 digits');
  if (!luhnValid(digits)) throw new InvalidCardNumberError('the card number fails its check digit');
  return digits;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function tokenizeCard(number: string): CardToken {
  const digits = normalizeCardNumber(number);
  const digest = createHash('sha256').update(`souk-card:v1:${digits}`).digest('base64url');
  return { token: `tok_${digest.slice(0, 32)}`, last4: digits.slice(-4) };
}
