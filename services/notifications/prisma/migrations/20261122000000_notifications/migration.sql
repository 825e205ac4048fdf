CREATE TYPE "notification_email_status" AS ENUM ('pending', 'sent', 'skipped');

CREATE TABLE "notifications" (
    "user_id" UUID NOT NULL,
    "id" BIGINT NOT NULL,
    "event_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "read_at" TIMESTAMPTZ(3),
    "email_status" "notification_email_status" NOT NULL,
    "emailed_at" TIMESTAMPTZ(3),
    CONSTRAINT "notifications_pkey" PRIMARY KEY ("user_id", "id")
);
CREATE UNIQUE INDEX "notifications_event_id_key" ON "notifications"("event_id");
CREATE INDEX "notifications_unread_idx" ON "notifications"("user_id", "id") WHERE "read_at" IS NULL;
CREATE INDEX "notifications_email_pending_idx" ON "notifications"("created_at") WHERE "email_status" = 'pending';

CREATE TABLE "notification_counters" (
    "user_id" UUID NOT NULL,
    "last_id" BIGINT NOT NULL,
    CONSTRAINT "notification_counters_pkey" PRIMARY KEY ("user_id")
);

CREATE TABLE "notification_recipients" (
    "user_id" UUID NOT NULL,
    "email" TEXT,
    "display_name" TEXT,
    "deleted_at" TIMESTAMPTZ(3),
    CONSTRAINT "notification_recipients_pkey" PRIMARY KEY ("user_id")
);

CREATE TABLE "notification_order_owners" (
    "order_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    CONSTRAINT "notification_order_owners_pkey" PRIMARY KEY ("order_id")
);
CREATE INDEX "notification_order_owners_user_id_idx" ON "notification_order_owners"("user_id");
