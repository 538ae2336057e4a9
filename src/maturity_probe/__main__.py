from maturity_probe.cli import main

main()
