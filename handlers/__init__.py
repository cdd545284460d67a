"""Channel-agnostic conversations: events in, steps (state and replies) out."""
