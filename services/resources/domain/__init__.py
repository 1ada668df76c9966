"""The resource space's rules, as plain functions over plain data (no database, no web, no broker).

resources     a published resource, a change to one, who may change it, the recording-consent rule
translations  adding a translation, which languages to ask translators for
search        the tokens a title or query is reduced to, in any script
index         the in-process search read model (its loader is given to it)
wikitext      the Meta-Wiki page of the resource space
figures       the figures of GET /stats
errors        the refusals a use case can answer with
"""
