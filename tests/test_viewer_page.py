"""The viewer page's modulepreload list (twin/viewer_page.py): which imports count, the
graph walk, and the page the app serves. The browser side (every module the real viewer
loads is hinted, and fetched through the hint) is tests/e2e/test_lean.py."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twin.app import create_app
from twin.settings import Settings
from twin.viewer_page import module_graph, preloaded_page, static_imports

REPO = Path(__file__).resolve().parents[1]


def test_static_imports_counts_statements_not_calls_or_comments() -> None:
    source = """// import { gone } from "./commented.js";
import { a } from "./a.js";
import b, { c as d } from './b.js';
import {
  e,
  f,
} from "../up/e.js";
export { g } from "./g.js";
export * from "./star.js";
import "./side-effect.js";
import * as C from "/cesium/index.js";
import x from "some-package";
const later = import("./lazy.js");
const also = await import('./lazy2.js');
  const template = `import { y } from "./in-a-string.js"`;
export function fromHere() { return "./not-an-import.js"; }
export const label = "from";
"""
    assert static_imports(source) == [
        "./a.js",
        "./b.js",
        "../up/e.js",
        "./g.js",
        "./star.js",
        "./side-effect.js",
    ]


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_module_graph_is_breadth_first_once_each_and_stays_inside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "viewer"
    (tmp_path / "outside.js").write_text("export const secret = 1;\n")
    _write(
        root,
        {
            "js/main.js": 'import "./a.js";\nimport { b } from "./b.js";\n',
            "js/a.js": 'import { c } from "./deep/c.js";\nimport "./main.js";\n',  # a cycle
            "js/b.js": 'import { c } from "./deep/c.js";\nimport "../../outside.js";\n',
            "js/deep/c.js": 'import "./missing.js";\nconst l = import("../lazy.js");\n',
            "js/lazy.js": "",
        },
    )
    with caplog.at_level(logging.WARNING):
        graph = module_graph(root, root / "js/main.js")
    assert [p.relative_to(root.resolve()).as_posix() for p in graph] == [
        "js/a.js",
        "js/b.js",
        "js/deep/c.js",
    ]
    warned = caplog.text
    assert "../../outside.js" in warned
    assert "./missing.js" in warned


def test_preloaded_page_lists_the_graph_before_the_entry_script(tmp_path: Path) -> None:
    root = tmp_path / "viewer"
    _write(
        root,
        {
            "index.html": (
                "<!doctype html>\n<html>\n  <head>\n"
                '    <link rel="modulepreload" href="/cesium/index.js" />\n'
                '    <script type="module" src="/viewer/js/main.js"></script>\n'
                "  </head>\n  <body></body>\n</html>\n"
            ),
            "js/main.js": 'import { a } from "./a.js";\n',
            "js/a.js": 'import { b } from "./b.js";\n',
            "js/b.js": "export const b = 1;\n",
        },
    )
    html = preloaded_page(root / "index.html", root).decode()
    assert (
        '    <link rel="modulepreload" href="/cesium/index.js" />\n'
        '    <link rel="modulepreload" href="/viewer/js/a.js" />\n'
        '    <link rel="modulepreload" href="/viewer/js/b.js" />\n'
        '    <script type="module" src="/viewer/js/main.js"></script>\n'
    ) in html
    # a page without a module entry under /viewer/ is served as it is
    (root / "index.html").write_text("<html><body>plain</body></html>")
    assert preloaded_page(root / "index.html", root) == b"<html><body>plain</body></html>"


def test_the_app_serves_the_real_viewer_with_its_module_list(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path)))
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    hinted = re.findall(r'<link rel="modulepreload" href="/viewer/(js/[^"]+)"', r.text)
    main = (REPO / "viewer/js/main.js").read_text()
    # main.js's own imports are all there, each once, and each file exists
    assert set(static_imports(main)) <= {f"./{h.removeprefix('js/')}" for h in hinted}
    assert len(hinted) == len(set(hinted))
    assert all((REPO / "viewer" / h).is_file() for h in hinted)
    assert "js/main.js" not in hinted
    assert "js/imports.js" not in hinted  # loaded with import() on first use
    assert client.head("/").status_code == 200
