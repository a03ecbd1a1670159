from zwvl.cli import main

main()
