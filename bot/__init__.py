"""Runtime: settings, wiring, the dispatcher, channel adapters, the outbox sender."""
