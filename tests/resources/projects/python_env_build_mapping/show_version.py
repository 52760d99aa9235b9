import platform
import sys

print("PYTHON", platform.python_version(), sys.prefix != sys.base_prefix)
