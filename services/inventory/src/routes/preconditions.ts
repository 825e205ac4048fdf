import { Problem } from '@souk/kit';
import type { Precondition } from '../domain/items.ts';

/** The ETag of an item version (strong: the representation changes with every version). */
export const etagOf = (version: number) => `"${version}"`;

const TYPE = 'https://souk.dev/problems';

/**
 * If-Match is required on every change of an item, so a client can never overwrite a version it
 * has not seen (428 without it). `*` matches any version; an entity tag that is not one of ours
 * can never match (412).
 */
export function ifMatch(header: string): Precondition {
  const value = header.trim();
  if (!value) {
    throw new Problem(428, {
      type: `${TYPE}/precondition-required`,
      detail: 'send If-Match with the ETag of the version you are changing (or *)',
      extensions: {
        errors: [{ in: 'headers', pointer: '/If-Match', field: 'If-Match', message: 'required' }],
      },
    });
  }
  if (value === '*') return '*';
  return value
    .split(',')
    .map((tag) => /^"(\d{1,9})"$/.exec(tag.trim())?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number);
}

export function preconditionFailed(current: number): Problem {
  return new Problem(412, {
    type: `${TYPE}/precondition-failed`,
    detail: 'the item changed since you read it; fetch it again and retry',
    headers: { ETag: etagOf(current) },
    extensions: {
      errors: [
        {
          in: 'headers',
          pointer: '/If-Match',
          field: 'If-Match',
          message: `current ETag is ${etagOf(current)}`,
        },
      ],
    },
  });
}
