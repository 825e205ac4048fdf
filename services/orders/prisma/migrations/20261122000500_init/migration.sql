CREATE TYPE "order_status" AS ENUM ('PENDING', 'CANCELLING', 'CONFIRMED', 'CANCELLED');

CREATE TABLE "orders" (
  "id" UUID NOT NULL PRIMARY KEY,
  "user_id" UUID NOT NULL,
  "status" "order_status" NOT NULL,
  "total_cents" BIGINT NOT NULL CHECK ("total_cents" >= 0),
  "currency" CHAR(3) NOT NULL,
  "card_token" TEXT NOT NULL,
  "card_last4" CHAR(4) NOT NULL,
  "shipping_note" TEXT,
  "cancel_reason" TEXT,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "completed_at" TIMESTAMPTZ(6)
);
CREATE INDEX "orders_user_created" ON "orders" ("user_id", "created_at" DESC, "id" DESC);
CREATE INDEX "orders_created" ON "orders" ("created_at" DESC, "id" DESC);

CREATE TABLE "order_lines" (
  "order_id" UUID NOT NULL REFERENCES "orders" ("id") ON DELETE CASCADE,
  "line_no" INTEGER NOT NULL,
  "item_id" UUID NOT NULL,
  "title" TEXT NOT NULL,
  "quantity" INTEGER NOT NULL CHECK ("quantity" > 0),
  "unit_price_cents" BIGINT NOT NULL CHECK ("unit_price_cents" >= 0),
  PRIMARY KEY ("order_id", "line_no")
);

CREATE TABLE "sagas" (
  "order_id" UUID NOT NULL PRIMARY KEY REFERENCES "orders" ("id") ON DELETE CASCADE,
  "state" TEXT NOT NULL,
  "step_id" UUID,
  "step_attempts" INTEGER NOT NULL DEFAULT 1,
  "deadline_at" TIMESTAMPTZ(6),
  "stock" TEXT NOT NULL,
  "reservation_id" UUID,
  "reservation_until" TIMESTAMPTZ(6),
  "payment_id" UUID,
  "cancel_reason" TEXT,
  "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);
-- Only running sagas have a deadline: the sweeper's scan stays as small as the work in flight.
CREATE INDEX "sagas_deadline" ON "sagas" ("deadline_at") WHERE "deadline_at" IS NOT NULL;

CREATE TABLE "saga_history" (
  "seq" BIGSERIAL PRIMARY KEY,
  "order_id" UUID NOT NULL REFERENCES "orders" ("id") ON DELETE CASCADE,
  "step" TEXT NOT NULL,
  "outcome" TEXT NOT NULL,
  "detail" JSONB,
  "at" TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);
CREATE INDEX "saga_history_order" ON "saga_history" ("order_id", "seq");

CREATE TABLE "idempotency_keys" (
  "user_id" UUID NOT NULL,
  "key" TEXT NOT NULL,
  "request_hash" CHAR(64) NOT NULL,
  "order_id" UUID NOT NULL,
  "status" INTEGER NOT NULL,
  "body" JSONB NOT NULL,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  PRIMARY KEY ("user_id", "key")
);
