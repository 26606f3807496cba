"""The viewer's page with its static module graph announced up front.

``viewer/js/main.js`` imports about fifty modules, five levels deep. A browser discovers
them one level at a time: each level costs a round trip before the next is requested.
:func:`preloaded_page` lists every module main.js loads statically as
``<link rel="modulepreload">`` in the page's head, so all of them are requested at once,
in parallel with CesiumJS. Modules loaded with ``import()`` (the import panel, the login
dialog, the project form, the sensor card and chart) stay lazy: they are not listed.

The list is computed when the app starts, from the files themselves, so it cannot fall
behind the code. Only relative specifiers (``./x.js``, ``../y.js``) resolving inside the
viewer directory are followed; the scan reads ``import``/``export ... from`` statements at
the start of a line (the viewer's style, kept by prettier), so a commented-out import is
not one.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

#: ``import x from "./a.js"``, ``import {\n a,\n} from "./a.js"``, ``export * from "./a.js"``
#: and ``import "./a.js"``; never ``import("./a.js")``.
_STATIC = re.compile(
    r"""^[ \t]*(?:import|export)\b(?![ \t]*\()[^;"'`]*?\bfrom[ \t]*(["'])(\.{1,2}/[^"'\n]+)\1"""
    r"""|^[ \t]*import[ \t]*(["'])(\.{1,2}/[^"'\n]+)\3""",
    re.MULTILINE,
)
_ENTRY_TAG = re.compile(r"""<script\s+type="module"\s+src="([^"]+)"\s*>\s*</script>""")


def static_imports(source: str) -> list[str]:
    """The relative specifiers ``source`` imports statically, in order of appearance."""
    return [m.group(2) or m.group(4) for m in _STATIC.finditer(source)]


def module_graph(root: Path, entry: Path) -> list[Path]:
    """Every module ``entry`` loads statically (itself excluded), breadth first, each once.

    A specifier that leaves ``root`` or names a missing file is skipped with a warning:
    the browser will report it, and the page still works without the hint."""
    root = root.resolve()
    entry = entry.resolve()
    seen = {entry}
    order: list[Path] = []
    queue = [entry]
    while queue:
        module = queue.pop(0)
        try:
            source = module.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("viewer: cannot read %s for the module list: %s", module.name, exc)
            continue
        for spec in static_imports(source):
            target = (module.parent / spec).resolve()
            if not target.is_relative_to(root) or not target.is_file():
                log.warning("viewer: %s imports %s, which is not in the viewer", module.name, spec)
                continue
            if target not in seen:
                seen.add(target)
                order.append(target)
                queue.append(target)
    return order


def preloaded_page(index: Path, viewer_dir: Path, mount: str = "/viewer") -> bytes:
    """``index.html`` with a ``modulepreload`` link for each module its entry script loads
    statically, just before that script. Unchanged when it has no module script under
    ``mount``."""
    html = index.read_text(encoding="utf-8")
    tag = _ENTRY_TAG.search(html)
    if tag is None or not tag.group(1).startswith(mount + "/"):
        return html.encode("utf-8")
    entry = viewer_dir / tag.group(1).removeprefix(mount + "/")
    root = viewer_dir.resolve()
    modules = module_graph(root, entry)
    indent = html[html.rfind("\n", 0, tag.start()) + 1 : tag.start()]
    links = "".join(
        f'<link rel="modulepreload" href="{mount}/{m.relative_to(root).as_posix()}" />\n{indent}'
        for m in modules
    )
    return (html[: tag.start()] + links + html[tag.start() :]).encode("utf-8")
