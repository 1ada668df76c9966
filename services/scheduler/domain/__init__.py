"""The scheduler's rules and decisions: plain data in, decision out.

Nothing here reads a database, a topic or a request (no pymongo, flask, kafka or bson): the use
cases in services/scheduler/service.py load the state, ask these modules what to do, and save
the result with its events in one transaction.

  errors        NotFound, Refused (a refusal carries its HTTP status and, when input caused it, the field)
  seats         seat or waitlist, waitlist position, promotion order, who may register when
  clinics       a new clinic from a request, what an edit changes, which changes a status allows
  slots         slot checks (past, duplicated, out of the range a calendar can render)
  invitations   who is invited to a clinic, and why
  reminders     which reminder is due when
  people        the read model of registry events (freshness by revision)
  completion    attendance and feedback eligibility
  events        the data of every event the scheduler emits
  views         what each reader sees of a clinic, a registration, a space
  figures       the program's figures (/stats)
  suggest       slot suggestion across time zones
  calendar      iCalendar feeds
"""
