/**
 * Demo data for `npm start`, made through the services' public HTTP API like any client would:
 * the admin (created by users itself from ADMIN_EMAIL/ADMIN_PASSWORD), a customer account, and a
 * small catalogue owned by the admin. Idempotent: what exists already is found and kept, so a
 * second `npm start` adds nothing.
 */
import { ApiClient, ApiError } from './api-client.ts';

export interface Credentials {
  email: string;
  password: string;
}

export const DEMO_ADMIN: Credentials = { email: 'admin@souk.local', password: 'souk-admin-demo-password' };
export const DEMO_CUSTOMER: Credentials & { name: string } = {
  email: 'customer@souk.local',
  password: 'souk-customer-demo-password',
  name: 'Demo Customer',
};

export interface CatalogueEntry {
  /** Stable name for the demo scenario; the title is what the seed looks items up by. */
  key: 'teapot' | 'lantern' | 'glasses' | 'spices' | 'rug';
  title: string;
  description: string;
  priceCents: number;
  currency: string;
  quantity: number;
}

export const CATALOGUE: readonly CatalogueEntry[] = [
  {
    key: 'teapot',
    title: 'Hammered brass teapot',
    description: 'Hand-beaten brass, 1 l.',
    priceCents: 4_900,
    currency: 'EUR',
    quantity: 1_000,
  },
  {
    key: 'lantern',
    title: 'Pierced copper lantern',
    description: 'Casts star patterns; fits a tea light.',
    priceCents: 3_200,
    currency: 'EUR',
    quantity: 1_000,
  },
  {
    key: 'glasses',
    title: 'Tea glasses, set of six',
    description: 'Gilded rim, 120 ml each.',
    priceCents: 2_400,
    currency: 'EUR',
    quantity: 1_000,
  },
  {
    key: 'spices',
    title: 'Spice box, twelve jars',
    description: 'Cedar box with cumin, ras el hanout, saffron and more.',
    priceCents: 3_800,
    currency: 'EUR',
    quantity: 1_000,
  },
  {
    key: 'rug',
    title: 'Vintage Beni Ourain rug (sold out)',
    description: 'One of a kind, and already gone: orders for it are rejected for want of stock.',
    priceCents: 89_000,
    currency: 'EUR',
    quantity: 0,
  },
];

export interface Account {
  id: string;
  email: string;
  token: string;
}

export interface SeededItem extends CatalogueEntry {
  id: string;
}

export interface Seeded {
  admin: Account;
  customer: Account;
  items: Record<CatalogueEntry['key'], SeededItem>;
  /** What this run created (zero on a second run). */
  created: { customer: boolean; items: number };
}

interface ItemView {
  id: string;
  title: string;
  ownerId: string;
}

async function signIn(api: ApiClient, who: Credentials, role: string): Promise<Account> {
  let session: { accessToken: string };
  try {
    session = await api.post<{ accessToken: string }>('/sessions', {
      email: who.email,
      password: who.password,
    });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401)
      throw new Error(`the demo ${role} ${who.email} exists with another password (${e.message})`);
    throw e;
  }
  const me = await api.get<{ id: string; email: string }>('/users/me', { token: session.accessToken });
  return { id: me.id, email: me.email, token: session.accessToken };
}

/** The admin's items with these titles, walking every page of its listing. */
async function existingItems(api: ApiClient, ownerId: string): Promise<Map<string, ItemView>> {
  const found = new Map<string, ItemView>();
  let cursor: string | null = null;
  do {
    const query: string = `/items?owner=${ownerId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await api.get<{ items: ItemView[]; nextCursor: string | null }>(query);
    for (const item of page.items) if (!found.has(item.title)) found.set(item.title, item);
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}

export async function seed(base: string): Promise<Seeded> {
  const api = new ApiClient(base);
  const admin = await signIn(api, DEMO_ADMIN, 'admin');
  const registered = await api.call('POST', '/users', {
    body: { email: DEMO_CUSTOMER.email, password: DEMO_CUSTOMER.password, name: DEMO_CUSTOMER.name },
    accept: [409],
  });
  const customer = await signIn(api, DEMO_CUSTOMER, 'customer');

  const existing = await existingItems(api, admin.id);
  const items = {} as Seeded['items'];
  let createdItems = 0;
  for (const entry of CATALOGUE) {
    let item = existing.get(entry.title);
    if (!item) {
      const { key: _key, ...fields } = entry;
      item = await api.post<ItemView>('/items', fields, { token: admin.token });
      createdItems++;
    }
    items[entry.key] = { ...entry, id: item.id };
  }
  return { admin, customer, items, created: { customer: registered.status === 201, items: createdItems } };
}
