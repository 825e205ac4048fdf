import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'X-Request-Id';
const SANE = /^[\w.:-]{1,128}$/;

/**
 * The caller's X-Request-Id when it looks like an id (a proxy or another service set it),
 * otherwise a new one.
 */
export function requestIdOf(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && SANE.test(incoming) ? incoming : randomUUID();
}
