"""The five services; each one imports shared/ and never another service."""
