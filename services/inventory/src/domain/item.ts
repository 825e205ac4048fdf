/** An item a user lists, as the domain and the API see it. */
export interface Item {
  id: string;
  ownerId: string;
  title: string;
  description: string;
  priceCents: number;
  currency: string;
  quantity: number;
  availability: 'available' | 'unavailable';
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The fields an owner sets. */
export interface ItemFields {
  title: string;
  description: string;
  priceCents: number;
  currency: string;
  quantity: number;
  availability: 'available' | 'unavailable';
}

export const SORTS = ['price', '-price', 'createdAt', '-createdAt', 'title', '-title'] as const;
export type Sort = (typeof SORTS)[number];

export interface ItemFilter {
  ownerId?: string | undefined;
  availability?: 'available' | 'unavailable' | undefined;
  minPriceCents?: number | undefined;
  maxPriceCents?: number | undefined;
  currency?: string | undefined;
  /** Case-insensitive substring of the title. */
  q?: string | undefined;
}

/** Where a page ends: the sort key's value and the id of its last item (the tie-breaker). */
export interface Position {
  value: string | number;
  id: string;
}
