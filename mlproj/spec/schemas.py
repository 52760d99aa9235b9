"""The JSON Schemas (draft 2020-12) of MLproject, python_env.yaml and conda.yml.

They live in `schemas/` at the top of the repository and ship inside the package as
`mlproj/schemas/`. `mlproj validate` checks the same shapes by hand (faster, and each message
names the line and the fix); the tests keep the two in agreement.

To let an editor that uses yaml-language-server (for example VS Code's YAML extension)
check and complete a file, put a modeline on its first line, with the path of the schema
relative to the file:

    # yaml-language-server: $schema=schemas/mlproject.schema.json
    # yaml-language-server: $schema=schemas/python_env.schema.json
    # yaml-language-server: $schema=schemas/conda.schema.json

or map file names to schemas once in the editor's settings:

    "yaml.schemas": {
        "/path/to/mlproj/schemas/mlproject.schema.json": ["MLproject", "MLProject", "mlproject"],
        "/path/to/mlproj/schemas/python_env.schema.json": ["python_env.yaml"],
        "/path/to/mlproj/schemas/conda.schema.json": ["conda.yaml", "conda.yml"]
    }

`python -c "import mlproj.spec.schemas as s; print(s.SCHEMA_DIR)"` prints the directory.
"""

from __future__ import annotations

from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
SCHEMAS = {
    "mlproject": SCHEMA_DIR / "mlproject.schema.json",
    "python_env": SCHEMA_DIR / "python_env.schema.json",
    "conda": SCHEMA_DIR / "conda.schema.json",
}


def schema_path(kind: str) -> Path:
    """The schema file for "mlproject", "python_env" or "conda"."""
    return SCHEMAS[kind]
