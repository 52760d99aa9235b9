"""Zip projects: unpacked once per content hash, safely."""
