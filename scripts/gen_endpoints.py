"""Write ENDPOINTS.md from the route registry: ``python scripts/gen_endpoints.py``.

``tests/unit/test_endpoints_doc.py`` fails when the file is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pytest_openai_fake.providers import PROVIDERS
from pytest_openai_fake.resources import ALL_RESOURCES
from pytest_openai_fake.routing import build_map

TARGET = Path(__file__).resolve().parent.parent / "ENDPOINTS.md"


def render() -> str:
    import openai

    lines = [
        "# Endpoints",
        "",
        "Generated from the route registry by `python scripts/gen_endpoints.py`; do not edit.",
        "The endpoint name is the SDK call path: the request log, scripting and faults use it.",
        "",
        "Every endpoint takes the scripted replies `error(...)`, `drop()`, `raw(...)`, `DEFAULT`, delays",
        "and callables, and a dict merged into its JSON reply (checked against the `response` model",
        "when there is one). `content` lists what else it can be scripted with: `text` (a string),",
        "`message` (tool calls, refusals, finish reasons). `streams`: `cut_stream`, `stream_error`",
        "and chunk delays apply.",
        "",
        "A `(generic)` endpoint is read from the installed `openai` SDK and answered by the generic",
        "layer: the request validated against the method's params type, a schema-valid reply with",
        "stored create / retrieve / update / list / delete. Every other endpoint is hand-written.",
        "",
        f"Generated with openai {openai.__version__}; under another SDK release the generic endpoints",
        "follow that release (docs/versions.md).",
        "",
    ]
    for provider in PROVIDERS.values():
        lines += [
            f"## {provider.name} (base path `{provider.base_path}`)",
            "",
            "| endpoint | method | path | content | streams | response |",
            "|---|---|---|---|---|---|",
        ]
        own = {route.endpoint for resource in provider.resources for route in resource.routes}
        _, routes = build_map([*ALL_RESOURCES, *provider.resources], provider.base_path, provider.mounts, provider.endpoints)
        if provider.mounts:
            lines[-3:-3] = [f"Also under {', '.join(f'`{m}`' for m in provider.mounts)}.", ""]
        for route in routes.values():
            content = ", ".join(sorted(route.replies)) or "–"
            response = f"`{route.response.__name__}`" if route.response is not None else "–"
            mark = " (own shape)" if route.endpoint in own else " (generic)" if route.generic else ""
            lines.append(
                f"| `{route.endpoint}`{mark} | {route.method} | `{provider.base_path}{route.path}` | {content} | "
                f"{'yes' if route.streams else 'no'} | {response} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    TARGET.write_text(render())
    sys.stdout.write(f"wrote {TARGET}\n")
