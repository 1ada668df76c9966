SERVICE = "registry"
