environment = "qa"
replicas    = 1
