-- CreateEnum
CREATE TYPE "payment_status" AS ENUM ('authorized', 'declined', 'failed', 'voided', 'captured');
CREATE TYPE "payment_operation_kind" AS ENUM ('authorize', 'capture', 'void', 'refund');
CREATE TYPE "payment_operation_result" AS ENUM ('succeeded', 'declined', 'failed', 'rejected');
CREATE TYPE "ledger_account" AS ENUM ('customer', 'hold', 'merchant');

-- CreateTable
CREATE TABLE "payments" (
    "id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "status" "payment_status" NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "requested_cents" BIGINT NOT NULL,
    "authorized_cents" BIGINT NOT NULL DEFAULT 0,
    "captured_cents" BIGINT NOT NULL DEFAULT 0,
    "refunded_cents" BIGINT NOT NULL DEFAULT 0,
    "card_token" TEXT NOT NULL,
    "card_last4" CHAR(4) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),

    CONSTRAINT "payments_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "payments_currency_check" CHECK ("currency" ~ '^[A-Z]{3}$'),
    CONSTRAINT "payments_amounts_check" CHECK (
        "requested_cents" >= 0 AND "authorized_cents" >= 0 AND "authorized_cents" <= "requested_cents"
        AND "captured_cents" >= 0 AND "captured_cents" <= "authorized_cents"
        AND "refunded_cents" >= 0 AND "refunded_cents" <= "captured_cents"),
    CONSTRAINT "payments_card_check" CHECK ("card_token" ~ '^tok_' AND "card_last4" ~ '^[0-9]{4}$')
);

-- CreateIndex
CREATE UNIQUE INDEX "payments_order_id_key" ON "payments"("order_id");

-- CreateTable
CREATE TABLE "payment_operations" (
    "id" UUID NOT NULL,
    "step_id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "payment_id" UUID,
    "kind" "payment_operation_kind" NOT NULL,
    "result" "payment_operation_result" NOT NULL,
    "reason" TEXT,
    "amount_cents" BIGINT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "outcome_type" TEXT NOT NULL,
    "outcome" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),

    CONSTRAINT "payment_operations_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "payment_operations_amount_check" CHECK ("amount_cents" >= 0),
    CONSTRAINT "payment_operations_payment_id_fkey" FOREIGN KEY ("payment_id") REFERENCES "payments"("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "payment_operations_step_id_key" ON "payment_operations"("step_id");
CREATE INDEX "payment_operations_order_id_idx" ON "payment_operations"("order_id");
-- A payment is authorized at most once and captured at most once, whatever the steps say.
CREATE UNIQUE INDEX "payment_operations_one_authorization" ON "payment_operations"("payment_id")
    WHERE "kind" = 'authorize' AND "result" = 'succeeded';
CREATE UNIQUE INDEX "payment_operations_one_capture" ON "payment_operations"("payment_id")
    WHERE "kind" = 'capture' AND "result" = 'succeeded';

-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" BIGSERIAL NOT NULL,
    "operation_id" UUID NOT NULL,
    "payment_id" UUID NOT NULL,
    "account" "ledger_account" NOT NULL,
    "amount_cents" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "ledger_entries_amount_check" CHECK ("amount_cents" <> 0),
    CONSTRAINT "ledger_entries_operation_id_fkey" FOREIGN KEY ("operation_id") REFERENCES "payment_operations"("id"),
    CONSTRAINT "ledger_entries_payment_id_fkey" FOREIGN KEY ("payment_id") REFERENCES "payments"("id")
);

-- CreateIndex
CREATE INDEX "ledger_entries_payment_id_idx" ON "ledger_entries"("payment_id");
CREATE INDEX "ledger_entries_operation_id_idx" ON "ledger_entries"("operation_id");

-- Double entry: at commit, the entries of every operation that wrote some sum to zero per currency.
CREATE FUNCTION "ledger_entries_balanced"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM "ledger_entries" WHERE "operation_id" = NEW."operation_id"
    GROUP BY "currency" HAVING sum("amount_cents") <> 0
  ) THEN
    RAISE EXCEPTION 'ledger entries of operation % do not balance', NEW."operation_id"
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER "ledger_entries_balanced" AFTER INSERT ON "ledger_entries"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "ledger_entries_balanced"();

-- The ledger is append-only.
CREATE FUNCTION "ledger_entries_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger entries are never changed or deleted' USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER "ledger_entries_append_only" BEFORE UPDATE OR DELETE ON "ledger_entries"
  FOR EACH ROW EXECUTE FUNCTION "ledger_entries_append_only"();
