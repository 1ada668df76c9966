"""The notifier's rules, as plain functions over plain data (no pymongo, Flask, Kafka or bson):
who is told what (planning), who a message waits for (parking), what a person chose
(preferences), what a delivery becomes (deliveries), what goes into a message (messages,
rendering, compose, calendar), when to retry (retry), when a digest is due (digest), how a
translation request moves (translations), and the events the notifier emits (events)."""
