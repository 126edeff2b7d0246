from integrator.cli import main

main()
