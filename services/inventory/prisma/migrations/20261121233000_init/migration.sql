-- CreateEnum
CREATE TYPE "item_availability" AS ENUM ('available', 'unavailable');

-- CreateEnum
CREATE TYPE "reservation_status" AS ENUM ('held', 'committed', 'released', 'rejected');

-- CreateTable
CREATE TABLE "items" (
    "id" UUID NOT NULL,
    "owner_id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "price_cents" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "quantity" INTEGER NOT NULL,
    "availability" "item_availability" NOT NULL DEFAULT 'available',
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "items_pkey" PRIMARY KEY ("id"),
    -- Stock never goes negative, whatever the application does.
    CONSTRAINT "items_quantity_check" CHECK ("quantity" >= 0),
    CONSTRAINT "items_price_check" CHECK ("price_cents" >= 0)
);

-- CreateTable
CREATE TABLE "reservations" (
    "id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "status" "reservation_status" NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "reservations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reservation_lines" (
    "reservation_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "quantity" INTEGER NOT NULL,

    CONSTRAINT "reservation_lines_pkey" PRIMARY KEY ("reservation_id","item_id"),
    CONSTRAINT "reservation_lines_quantity_check" CHECK ("quantity" > 0)
);

-- CreateIndex
CREATE INDEX "items_owner_id_idx" ON "items"("owner_id");
CREATE INDEX "items_created_at_id_idx" ON "items"("created_at", "id");
CREATE INDEX "items_price_cents_id_idx" ON "items"("price_cents", "id");
CREATE INDEX "items_title_id_idx" ON "items"("title", "id");
CREATE UNIQUE INDEX "reservations_order_id_key" ON "reservations"("order_id");
-- The sweeper's scan: held reservations by deadline.
CREATE INDEX "reservations_held_expires_at_idx" ON "reservations"("expires_at") WHERE "status" = 'held';

-- AddForeignKey
ALTER TABLE "reservation_lines" ADD CONSTRAINT "reservation_lines_reservation_id_fkey" FOREIGN KEY ("reservation_id") REFERENCES "reservations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
