from mlproj.cli import main

main()
