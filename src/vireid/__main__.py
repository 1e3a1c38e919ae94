from vireid.cli import main

main()
