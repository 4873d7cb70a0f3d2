"""Backup and restore: one archive holding the database and the attachment files.

``archive`` writes and verifies the archive (a gzipped tar with a ``manifest.json``),
``sqlite`` and ``postgres`` snapshot and replace each backend's database, and ``service``
puts them together for ``aimtrack backup`` and ``aimtrack restore`` (docs/backup.md).
"""
