import { z } from 'zod';
import type { Health } from './health.ts';
import { defineRoute, type Route } from './route.ts';

const Liveness = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' });

const Readiness = z
  .object({
    status: z.enum(['ok', 'degraded', 'unavailable']),
    checks: z.record(
      z.string(),
      z.object({
        status: z.enum(['up', 'down', 'disabled']),
        critical: z.boolean(),
        durationMs: z.number(),
        error: z.string().optional(),
        detail: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'Readiness' });

/**
 * `/livez` says the process is alive and serving (so restarting it would not help otherwise);
 * `/readyz` runs the dependency checks: 200 when ok or degraded, 503 when a critical one fails.
 */
export function probeRoutes(health: Health): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/livez',
      name: 'livez',
      summary: 'Liveness of the process',
      tags: ['operations'],
      responses: { 200: { description: 'Alive', body: Liveness } },
      handler: ({ reply }) => reply(200, { status: 'ok' }),
    }),
    defineRoute({
      method: 'GET',
      path: '/readyz',
      name: 'readyz',
      summary: 'Readiness: the dependency checks',
      tags: ['operations'],
      responses: {
        200: { description: 'Ready, possibly degraded', body: Readiness },
        503: { description: 'Not ready', body: Readiness, contentType: 'application/json' },
      },
      handler: async ({ ctx, reply }) => {
        const readiness = await health.readiness();
        ctx.set('Cache-Control', 'no-store');
        if (readiness.status === 'unavailable') return reply(503, readiness);
        return reply(200, readiness);
      },
    }),
  ];
}
