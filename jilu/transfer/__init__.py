"""Case disc package, hand-over to the legal department and legal review (C5.5)."""
