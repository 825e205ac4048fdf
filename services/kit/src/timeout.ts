import type { Middleware } from './context.ts';
import { Problem } from './problem.ts';

/**
 * Answers 503 when the rest of the chain takes longer than `ms`, and aborts `ctx.state.signal`
 * so outgoing calls made with it stop too. The handler's own promise is left to settle.
 */
export function timeout(ms: number): Middleware {
  return async (ctx, next) => {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let onClose = () => {};
    const expired = new Promise<never>((_, reject) => {
      // The response closes without finishing when the client went away mid-request: stop
      // waiting for the handler then too, since nobody is left to answer.
      onClose = () => {
        if (ctx.res.writableFinished) return;
        const gone = new Error('client closed the connection');
        controller.abort(gone);
        reject(gone);
      };
      timer = setTimeout(() => {
        const problem = new Problem(503, {
          title: 'Request Timeout',
          detail: `the request took longer than ${ms} ms`,
          message: `request timed out after ${ms} ms`,
        });
        controller.abort(problem);
        reject(problem);
      }, ms);
    });
    expired.catch(() => {});
    ctx.res.once('close', onClose);
    ctx.state.signal = controller.signal;
    const work = next();
    work.catch(() => {});
    try {
      await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
      ctx.res.off('close', onClose);
    }
  };
}
