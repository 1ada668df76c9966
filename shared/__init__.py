"""The library every Let's Connect service uses: config, events, bus, outbox, inbox, mongo, web, auth."""
