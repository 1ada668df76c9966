SERVICE = "portal"
