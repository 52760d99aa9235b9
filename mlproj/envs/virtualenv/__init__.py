"""python_env.yaml (and conda.yml's pip list) as a uv-built virtualenv."""
