SERVICE = "resources"
