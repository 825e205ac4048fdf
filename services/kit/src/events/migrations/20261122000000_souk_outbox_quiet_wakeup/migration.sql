-- Wakes a relay only when it may be asleep. A NOTIFY makes its transaction take a cluster-wide lock
-- held through the commit's WAL flush, so notifying transactions commit one at a time: under a steady
-- stream of writes that serialises every writer on the disk's flush latency. A relay that is polling
-- its shards (it has seen events lately) holds an advisory lock per shard, class 1397705523 with the
-- shard number; a statement only notifies if a shard it wrote to has no such lock. The shard is
-- ("key_hash" & 2147483647) % 16, as in the relay (OUTBOX_SHARDS). The relay keeps polling for a
-- grace period after letting these locks go, for writers that looked just before.
CREATE OR REPLACE FUNCTION "souk_outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  shard integer;
BEGIN
  FOR shard IN SELECT DISTINCT ("key_hash" & 2147483647) % 16 FROM new_rows LOOP
    IF pg_try_advisory_lock_shared(1397705523, shard) THEN
      PERFORM pg_advisory_unlock_shared(1397705523, shard);
      PERFORM pg_notify('souk_outbox', '');
      RETURN NULL;
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS "souk_outbox_notify" ON "souk_outbox";
CREATE TRIGGER "souk_outbox_notify" AFTER INSERT ON "souk_outbox"
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "souk_outbox_notify"();
