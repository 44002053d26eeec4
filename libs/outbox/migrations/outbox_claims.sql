-- Claims on outbox events (rapport-outbox, delivery): a worker leases the events it is about to
-- deliver, so two or more workers over one database never send the same event at once, and a
-- worker that dies mid-delivery loses its lease when it runs out. Every service with an outbox
-- includes this one file as one of its migrations. Portable SQL: SQLite and PostgreSQL.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;              -- the worker's id (UUIDv7), NULL when free
ALTER TABLE outbox ADD COLUMN claimed_until_micros BIGINT;  -- the lease's end; free again after it

-- Claiming walks the undelivered events oldest first and stops at its limit...
CREATE INDEX outbox_pending_in_order ON outbox (occurred_at_micros, event_id)
    WHERE delivered_at_micros IS NULL;
-- ...then reads the undelivered events of the claimed events' customers, to keep their order.
CREATE INDEX outbox_pending_by_customer ON outbox (customer_id, occurred_at_micros, event_id)
    WHERE delivered_at_micros IS NULL;
