SERVICE = "notifier"
