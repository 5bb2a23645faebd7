environment = "staging"
replicas    = 1
