-- The kit's event tables: a transactional outbox and the inbox of processed event ids.
-- Shipped by @souk/kit and applied by the kit's migration runner next to a service's own migrations.

-- CreateTable
CREATE TABLE IF NOT EXISTS "souk_outbox" (
    "seq" BIGSERIAL NOT NULL,
    "event_id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "aggregate_id" TEXT NOT NULL,
    -- hashtext(aggregate_id): relays split the outbox into shards by it, so one aggregate has one relay.
    "key_hash" INTEGER NOT NULL,
    "event_type" TEXT NOT NULL,
    "envelope" JSONB NOT NULL,
    -- Trace context of the transaction that wrote the event (traceparent, tracestate).
    "headers" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "sent_at" TIMESTAMPTZ,

    CONSTRAINT "souk_outbox_pkey" PRIMARY KEY ("seq"),
    CONSTRAINT "souk_outbox_event_id_key" UNIQUE ("event_id")
);

-- CreateIndex
CREATE INDEX IF NOT EXISTS "souk_outbox_pending_idx" ON "souk_outbox" ("seq") WHERE "sent_at" IS NULL;
CREATE INDEX IF NOT EXISTS "souk_outbox_sent_at_idx" ON "souk_outbox" ("sent_at") WHERE "sent_at" IS NOT NULL;

-- Wakes the relays as soon as a transaction that appended events commits (NOTIFY is sent on commit).
CREATE OR REPLACE FUNCTION "souk_outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('souk_outbox', '');
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS "souk_outbox_notify" ON "souk_outbox";
CREATE TRIGGER "souk_outbox_notify" AFTER INSERT ON "souk_outbox"
  FOR EACH STATEMENT EXECUTE FUNCTION "souk_outbox_notify"();

-- CreateTable
CREATE TABLE IF NOT EXISTS "souk_inbox" (
    "consumer" TEXT NOT NULL,
    "event_id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "offset" BIGINT NOT NULL,
    "processed_at" TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT "souk_inbox_pkey" PRIMARY KEY ("consumer", "event_id")
);

-- CreateIndex
CREATE INDEX IF NOT EXISTS "souk_inbox_processed_at_idx" ON "souk_inbox" ("processed_at");
