import { conflict, type FieldError, notFound, Problem, unprocessable } from '@souk/kit';
import { DomainError } from '../domain/errors.ts';

const bodyField = (field: string, message: string): FieldError => ({
  in: 'body',
  pointer: `/${field}`,
  field,
  message,
});

/** A domain refusal as the problem document a client gets; anything else is rethrown. */
export function toProblem(error: unknown): never {
  if (!(error instanceof DomainError)) throw error;
  const errors = error.field ? [bodyField(error.field, error.message)] : undefined;
  switch (error.kind) {
    case 'invalid':
      throw unprocessable(error.message, errors ?? []);
    case 'conflict':
      throw conflict(error.message, errors ? { errors } : undefined);
    case 'not_found':
      throw notFound(error.message);
    case 'invalid_credentials':
      throw new Problem(401, {
        type: 'https://souk.dev/problems/invalid-credentials',
        detail: error.message,
        extensions: {
          errors: [bodyField('email', error.message), bodyField('password', error.message)],
        },
      });
    case 'invalid_token':
      throw new Problem(401, {
        type: 'https://souk.dev/problems/invalid-refresh-token',
        detail: error.message,
        ...(errors ? { extensions: { errors } } : {}),
      });
  }
}

/** Runs a domain call, mapping its refusals to problems. */
export async function domain<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    return toProblem(error);
  }
}
