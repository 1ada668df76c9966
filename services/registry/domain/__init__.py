"""The registry's rules, as plain functions over plain data (no database, no web, no broker).

eligibility   the program's checklist: who may join, and where to learn instead
usernames     Meta-Wiki usernames compared as MediaWiki compares them
profiles      a new profile, a change to one, a token reissue, an erasure's tombstone
skills        which events a profile change emits (the matcher's and scheduler's read models)
taxonomy      the base taxonomy merged with staff-added topics; which topic codes are known
directory     who the public directory lists, with which fields, and how its pages are cut
imports       CSV rows from a registration form -> registration bodies; the import report
signin        emailed sign-in requests: who gets one, when one may be exchanged for a session
figures       the program figures of GET /stats
errors        the refusals a use case can answer with
"""
