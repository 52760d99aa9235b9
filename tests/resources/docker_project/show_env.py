"""Prints what the container sees of its environment (a digest of the secret, never the value)."""

import hashlib
import os

print("GREETING=" + os.environ.get("GREETING", "<unset>"))
secret = os.environ.get("MLPROJ_TEST_SECRET", "")
print("SECRET_SHA256=" + hashlib.sha256(secret.encode()).hexdigest())
print("HOME_SET=" + str("HOME" in os.environ))
print("NAMES=" + ",".join(sorted(k for k in os.environ if k.startswith(("MLFLOW_", "MLPROJ_")))))
