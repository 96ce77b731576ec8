// Copies the browser libraries the workbench uses from node_modules into the Python package
// (src/xinedai_workflow/web/static/vendor). The copies are committed: `pip install` needs no npm.
// CI runs `npm ci && npm run build` and fails when the result differs from the committed files.
import { cpSync, mkdirSync, rmSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "xinedai_workflow", "web", "static", "vendor");
const files = {
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  "htmx.org/LICENSE": "htmx.LICENSE.txt",
  "bpmn-js/dist/bpmn-navigated-viewer.production.min.js": "bpmn-navigated-viewer.production.min.js",
  "bpmn-js/dist/assets/diagram-js.css": "bpmn/diagram-js.css",
  "bpmn-js/dist/assets/bpmn-js.css": "bpmn/bpmn-js.css",
  "bpmn-js/LICENSE": "bpmn-js.LICENSE.txt",
  "echarts/dist/echarts.min.js": "echarts.min.js",
  "echarts/LICENSE": "echarts.LICENSE.txt",
};

rmSync(out, { recursive: true, force: true });
for (const [from, to] of Object.entries(files)) {
  const target = join(out, to);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(here, "node_modules", from), target);
}
const lock = JSON.parse(readFileSync(join(here, "package-lock.json"), "utf8"));
const versions = Object.fromEntries(
  ["htmx.org", "bpmn-js", "echarts"].map((name) => [name, lock.packages[`node_modules/${name}`].version]),
);
writeFileSync(join(out, "VERSIONS.json"), JSON.stringify(versions, null, 2) + "\n");
