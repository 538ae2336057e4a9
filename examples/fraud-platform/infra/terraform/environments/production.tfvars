environment = "production"
network     = "projects/northbank-net/global/networks/shared-eu"
