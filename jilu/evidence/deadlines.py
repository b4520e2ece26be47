"""The rule's deadlines on a recording, in one place for every app above.

C5.1: a recording reaches a workstation within 24 hours of its end.
C5.2: it is named and tied to its activity or case within 48 hours of collection.
"""

from __future__ import annotations

from datetime import timedelta

COLLECTION_DEADLINE = timedelta(hours=24)  # C5.1
ANNOTATION_DEADLINE = timedelta(hours=48)  # C5.2
