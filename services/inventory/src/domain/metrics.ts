import type { Metrics } from '@souk/kit';
import type { ReservationResult } from './reservations.ts';

export type ReservationCounter = (result: ReservationResult, n?: number) => void;

/** `souk_inventory_reservations_total{result}`: reserved, rejected, released, expired, committed, ... */
export function reservationCounter(metrics: Metrics): ReservationCounter {
  const counter = metrics.counter(
    'souk_inventory_reservations_total',
    'Reservation steps by result (counted once their transaction committed)',
    ['result'],
  );
  for (const result of ['reserved', 'rejected', 'released', 'expired', 'committed', 'oversold'] as const) {
    counter.inc({ result }, 0);
  }
  return (result, n = 1) => counter.inc({ result }, n);
}
