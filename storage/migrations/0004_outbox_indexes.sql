-- The outbox keeps every message sent; only the pending ones are looked up. Partial indexes
-- hold just those, so they stay small however long the bot runs, and a message that is sent
-- leaves them instead of being moved around inside them.
DROP INDEX outbox_due;
DROP INDEX outbox_by_chat;
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_pending_by_chat ON outbox (channel, chat_id, id) WHERE status = 'pending';
