-- A reservation released by the expiry sweeper is `expired`, not `released`: a confirmation that
-- arrives after its expiry takes the stock again (see domain/reservations.ts commit).
ALTER TYPE "reservation_status" ADD VALUE IF NOT EXISTS 'expired';
