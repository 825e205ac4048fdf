import type { z } from 'zod';
import type { FieldError } from './problem.ts';

/** Zod issues as field errors a client can map back to its inputs. */
export function fieldErrors(where: FieldError['in'], error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String);
    return {
      in: where,
      pointer: path.map((p) => `/${p.replaceAll('~', '~0').replaceAll('/', '~1')}`).join(''),
      field: path.join('.'),
      message: issue.message,
    };
  });
}
