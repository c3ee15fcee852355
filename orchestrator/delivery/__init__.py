"""Exactly-once delivery: idempotency keys, durable request records, outbound "sent" records,
and per-person ordering. Adapters (and, later, queue workers) use `DeliveryStore` only."""
