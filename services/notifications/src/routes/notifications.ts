import { defineRoute, type Middleware, type Route } from '@souk/kit';
import { z } from 'zod';
import type { NotificationsRepository } from '../data/notifications.ts';

const NotificationView = z.object({
  id: z.int().positive(),
  kind: z.string(),
  title: z.string(),
  body: z.string(),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});

const Page = z.object({
  items: z.array(NotificationView),
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextCursor: z.int().nullable(),
  unreadCount: z.int(),
});

export function notificationRoutes(repo: NotificationsRepository, auth: Middleware[]): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/notifications',
      name: 'listNotifications',
      summary: 'The caller’s notifications, newest first (cursor: `before` an id)',
      tags: ['notifications'],
      use: auth,
      security: ['bearer'],
      query: z.object({
        before: z.coerce.number().int().positive().optional(),
        limit: z.coerce.number().int().min(1).max(100).default(20),
        unread: z
          .enum(['true', 'false'])
          .default('false')
          .transform((v) => v === 'true'),
      }),
      responses: {
        200: { description: 'A page of notifications', body: Page },
        401: { description: 'No valid token' },
      },
      handler: async ({ ctx, query, reply }) => {
        const userId = ctx.state.principal!.sub;
        const items = await repo.page(userId, {
          before: query.before,
          limit: query.limit,
          unread: query.unread,
        });
        const last = items.at(-1);
        ctx.set('Cache-Control', 'no-store');
        return reply(200, {
          items,
          nextCursor: items.length === query.limit && last ? last.id : null,
          unreadCount: await repo.unreadCount(userId),
        });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/notifications/read-all',
      name: 'markAllRead',
      summary: 'Mark every notification of the caller read',
      tags: ['notifications'],
      use: auth,
      security: ['bearer'],
      responses: {
        200: { description: 'How many were unread', body: z.object({ marked: z.int() }) },
        401: { description: 'No valid token' },
      },
      handler: async ({ ctx, reply }) =>
        reply(200, { marked: await repo.markAllRead(ctx.state.principal!.sub) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/notifications/:id/read',
      name: 'markRead',
      summary: 'Mark one notification read (idempotent)',
      tags: ['notifications'],
      use: auth,
      security: ['bearer'],
      params: z.object({ id: z.coerce.number().int().positive() }),
      responses: {
        200: { description: 'The notification', body: NotificationView },
        401: { description: 'No valid token' },
        404: { description: 'The caller has no such notification' },
      },
      handler: async ({ ctx, params, reply }) => {
        const n = await repo.markRead(ctx.state.principal!.sub, params.id);
        return n ? reply(200, n) : reply(404);
      },
    }),
  ];
}
