"""The matcher's rules and decisions as plain functions over plain data (no database, web or bus)."""
