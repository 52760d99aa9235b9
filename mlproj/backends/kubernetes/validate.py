"""Check a rendered Job against the models of the official `kubernetes` client.

The client's models are generated from the Kubernetes OpenAPI spec of the version it targets,
and each keeps its field types (`openapi_types`) and JSON names (`attribute_map`); the client
ships no spec file. Deserialising into V1Job catches missing required fields and bad values
(its client-side validation); a walk over the same model metadata catches what deserialising
silently drops: fields the API does not know (a misspelt `volumeMount`) and wrong types.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from mlproj.errors import UsageError

_PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "object": (object,),
    "datetime": (str,),
    "date": (str,),
}


def validate_job(job: Mapping[str, Any]) -> Any:
    """Return the V1Job; raise UsageError naming the first problem's path."""
    problems = model_problems(job, "V1Job")
    if problems:
        raise UsageError(f"job template: {problems[0]}", "fix the kube-job-template-path file")
    from kubernetes import client

    class _Response:
        data = json.dumps(job)

    try:
        return client.ApiClient().deserialize(_Response(), "V1Job")
    except (ValueError, TypeError, AttributeError) as exc:
        raise UsageError(f"job template: {exc}", "fix the kube-job-template-path file") from None


def model_problems(value: Mapping[str, Any], model: str) -> list[str]:
    """Fields of `value` (API JSON) that the client's `model` (e.g. V1Pod) does not allow."""
    return list(_walk(value, model, ""))


def _walk(value: Any, type_name: str, path: str) -> Any:
    if value is None:
        return
    listed = re.fullmatch(r"list\[(.+)\]", type_name)
    mapped = re.fullmatch(r"dict[(\[](\w+), (.+)[)\]]", type_name)
    if listed or mapped:
        container, called = (list, "a list") if listed else (dict, "a mapping")
        if not isinstance(value, container):
            yield f"{path or '.'}: expected {called}, got {type(value).__name__}"
            return
        if isinstance(value, list):
            inner = listed.group(1) if listed else ""
            items = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
        else:
            inner = mapped.group(2) if mapped else ""
            items = [(f"{path}.{key}", item) for key, item in value.items()]
        for where, item in items:
            yield from _walk(item, inner, where)
        return
    if type_name in _PRIMITIVES:
        if not isinstance(value, _PRIMITIVES[type_name]) or (
            type_name in ("int", "float") and isinstance(value, bool)
        ):
            yield f"{path}: expected {type_name}, got {value!r}"
        return
    from kubernetes import client

    model = getattr(client, type_name, None)
    if model is None:  # IntOrString and friends are typed as "object" in the models
        return
    if not isinstance(value, dict):
        yield f"{path or '.'}: expected a {type_name} mapping, got {value!r}"
        return
    json_to_attr = {name: attr for attr, name in model.attribute_map.items()}
    for key, item in value.items():
        attr = json_to_attr.get(key)
        if attr is None:
            yield f"{path}.{key}: unknown field of {type_name}"
            continue
        yield from _walk(item, model.openapi_types[attr], f"{path}.{key}")
