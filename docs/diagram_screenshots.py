"""Screenshots of a BPMN file as bpmn-js draws it: the top level and every subprocess plane.

    .venv/bin/python docs/diagram_screenshots.py [FILE] [--out DIR]

Defaults: `processes/xinedai_overdue.bpmn` into `docs/screenshots/diagram/` (`00-top.png`, then
one PNG per subprocess plane, named after the subprocess id). The page is the vendored bpmn-js
viewer (`src/xinedai_workflow/web/static/vendor`, built from `web-src/`), run in Debian's
headless Chromium (`/usr/bin/chromium`); nothing is fetched from the network.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "src" / "xinedai_workflow" / "web" / "static" / "vendor"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1800, "height": 1000}

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style>{css}
html, body {{ margin: 0; height: 100%; background: #fff; font-family: sans-serif; }}
#title {{ position: absolute; left: 12px; top: 8px; font-size: 15px; color: #333; z-index: 5; }}
#canvas {{ position: absolute; inset: 0; }}
</style></head><body><div id="title"></div><div id="canvas"></div>
<script>{js}</script></body></html>"""

SCRIPT = """async (xml) => {
  const viewer = new BpmnJS({ container: '#canvas' });
  const result = await viewer.importXML(xml);
  window.viewer = viewer;
  const canvas = viewer.get('canvas');
  return { warnings: result.warnings.map(w => w.message),
           roots: canvas.getRootElements().map(r => r.id) };
}"""

SHOW = """(rootId) => {
  const canvas = window.viewer.get('canvas');
  const root = canvas.getRootElements().find(r => r.id === rootId);
  canvas.setRootElement(root);
  canvas.zoom('fit-viewport', 'auto');
  const bo = root.businessObject;
  const name = (bo.name || (bo.processRef && bo.processRef.name) || bo.id);
  document.getElementById('title').textContent = name + '  (' + Math.round(canvas.zoom() * 100) + '%)';
  return canvas.zoom();
}"""


def shoot(diagram: Path, out: Path) -> list[Path]:
    """Write one PNG per plane of `diagram` into `out`; return their paths."""
    css = (VENDOR / "bpmn" / "diagram-js.css").read_text(encoding="utf-8") + (
        VENDOR / "bpmn" / "bpmn-js.css"
    ).read_text(encoding="utf-8")
    js = (VENDOR / "bpmn-navigated-viewer.production.min.js").read_text(encoding="utf-8")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
        page.set_content(PAGE.format(css=css, js=js.replace("</script", "<\\/script")))
        imported = page.evaluate(SCRIPT, diagram.read_text(encoding="utf-8"))
        if imported["warnings"]:
            raise SystemExit("bpmn-js import warnings:\n" + json.dumps(imported["warnings"], indent=2))
        for index, root_id in enumerate(imported["roots"]):
            page.evaluate(SHOW, root_id)
            name = "00-top" if index == 0 else f"{index:02d}-{root_id.removesuffix('_plane')}"
            path = out / f"{name}.png"
            page.screenshot(path=str(path))
            written.append(path)
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", nargs="?", default=str(ROOT / "processes" / "xinedai_overdue.bpmn"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "diagram"))
    args = parser.parse_args()
    for path in shoot(Path(args.file), Path(args.out)):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
