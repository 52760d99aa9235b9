"""Conda environments without conda: py-rattler solves, conda-lock files, pip sections."""
