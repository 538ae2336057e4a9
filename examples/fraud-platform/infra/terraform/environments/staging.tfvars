environment = "staging"
network     = "projects/northbank-net/global/networks/shared-eu"
