"""The domain model: what is pulled, decided, stored and passed between layers.

Standard library only (no I/O library, no Moodle client, no database): rules and
reports import it; it imports nothing of ours outside this package.
"""
