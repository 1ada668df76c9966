SERVICE = "scheduler"
