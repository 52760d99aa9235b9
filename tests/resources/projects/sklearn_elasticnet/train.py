import sys

print("alpha", sys.argv[1:])
