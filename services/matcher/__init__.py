SERVICE = "matcher"
