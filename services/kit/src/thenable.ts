/** Whether a middleware or handler answered with a promise (or anything awaitable) rather than at once. */
export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
