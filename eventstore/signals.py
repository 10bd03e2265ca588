from django.dispatch import Signal

# Sent inside append's transaction (and during replay) with ``event`` (EventRecord) and
# ``store`` (DBStore or MemoryStore). Receivers project the event into their app's tables.
event_appended = Signal()

# Sent after the transaction that appended ``event`` has committed (live appends only):
# broadcasting to browser tabs hangs off this, so no tab sees a rolled-back event.
event_committed = Signal()

# Sent after a stream's active branch changed (``stream_id``, ``branch_id``).
branch_switched = Signal()
