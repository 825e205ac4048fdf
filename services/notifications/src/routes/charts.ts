import { defineRoute, type Middleware, Problem, type Route } from '@souk/kit';
import { z } from 'zod';
import { type LiveCharts, PrometheusError } from '../domain/live-charts.ts';

const Point = z.tuple([z.number(), z.number().nullable()]);

const ChartsView = z.object({
  prometheus: z
    .enum(['ok', 'not_configured'])
    .describe('not_configured: notifications has no PROMETHEUS_URL, so there are no figures to show'),
  window: z.string().describe('the rate window of the queries'),
  range: z.object({ start: z.number(), end: z.number(), stepSeconds: z.number() }),
  charts: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      unit: z.enum(['ops', 's', 'short', 'percentunit']),
      series: z.array(z.object({ name: z.string(), points: z.array(Point) })),
    }),
  ),
});

/** `GET /console/charts`: the key figures for the console's charts (admins). */
export function chartRoutes(charts: LiveCharts, adminOnly: Middleware[]): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/console/charts',
      name: 'consoleCharts',
      summary: 'The platform’s key figures over the last minutes, read from Prometheus (admins)',
      tags: ['console'],
      use: adminOnly,
      security: ['bearer'],
      query: z.object({ minutes: z.coerce.number().int().min(1).max(360).default(15) }),
      responses: {
        200: { description: 'The charts (empty when no Prometheus is configured)', body: ChartsView },
        401: { description: 'No valid token' },
        403: { description: 'Not an admin' },
        502: { description: 'Prometheus is configured but does not answer' },
      },
      handler: async ({ ctx, query, reply }) => {
        ctx.set('Cache-Control', 'no-store');
        try {
          return reply(200, await charts.read(query.minutes));
        } catch (e) {
          if (e instanceof PrometheusError) throw new Problem(502, { detail: e.message });
          throw e;
        }
      },
    }),
  ];
}
