// Copies the browser libraries the workbench uses from node_modules into the Python package
// (src/xinedai_workflow/web/static/vendor) and bundles the studio's modeler (bpmn-js Modeler, the
// properties panel and our spiffworkflow: groups, studio/*.js) with esbuild into one file. The
// outputs are committed: `pip install` needs no npm. CI runs `npm ci && npm run build` and fails
// when the result differs from the committed files, so the bundle must be deterministic (pinned
// versions, no timestamps, no source maps with absolute paths).
import { cpSync, mkdirSync, rmSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "xinedai_workflow", "web", "static", "vendor");
const files = {
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  "htmx.org/LICENSE": "htmx.LICENSE.txt",
  "bpmn-js/dist/bpmn-navigated-viewer.production.min.js": "bpmn-navigated-viewer.production.min.js",
  "bpmn-js/dist/assets/diagram-js.css": "bpmn/diagram-js.css",
  "bpmn-js/dist/assets/bpmn-js.css": "bpmn/bpmn-js.css",
  "bpmn-js/dist/assets/bpmn-font/css/bpmn.css": "bpmn/bpmn-font/css/bpmn.css",
  "bpmn-js/dist/assets/bpmn-font/font/bpmn.woff2": "bpmn/bpmn-font/font/bpmn.woff2",
  "bpmn-js/dist/assets/bpmn-font/font/bpmn.woff": "bpmn/bpmn-font/font/bpmn.woff",
  "bpmn-js/LICENSE": "bpmn-js.LICENSE.txt",
  "@bpmn-io/properties-panel/dist/assets/properties-panel.css": "bpmn/properties-panel.css",
  "@bpmn-io/properties-panel/LICENSE": "properties-panel.LICENSE.txt",
  "bpmn-js-properties-panel/LICENSE": "bpmn-js-properties-panel.LICENSE.txt",
  "dmn-js/dist/assets/diagram-js.css": "dmn/diagram-js.css",
  "dmn-js/dist/assets/dmn-js-shared.css": "dmn/dmn-js-shared.css",
  "dmn-js/dist/assets/dmn-js-drd.css": "dmn/dmn-js-drd.css",
  "dmn-js/dist/assets/dmn-js-decision-table.css": "dmn/dmn-js-decision-table.css",
  "dmn-js/dist/assets/dmn-js-decision-table-controls.css": "dmn/dmn-js-decision-table-controls.css",
  "dmn-js/dist/assets/dmn-js-literal-expression.css": "dmn/dmn-js-literal-expression.css",
  "dmn-js/dist/assets/dmn-js-boxed-expression.css": "dmn/dmn-js-boxed-expression.css",
  "dmn-js/dist/assets/dmn-js-boxed-expression-controls.css": "dmn/dmn-js-boxed-expression-controls.css",
  "dmn-js/dist/assets/dmn-font/css/dmn.css": "dmn/dmn-font/css/dmn.css",
  "dmn-js/dist/assets/dmn-font/font/dmn.woff2": "dmn/dmn-font/font/dmn.woff2",
  "dmn-js/dist/assets/dmn-font/font/dmn.woff": "dmn/dmn-font/font/dmn.woff",
  "dmn-js/LICENSE": "dmn-js.LICENSE.txt",
  "echarts/dist/echarts.min.js": "echarts.min.js",
  "echarts/LICENSE": "echarts.LICENSE.txt",
};

rmSync(out, { recursive: true, force: true });
for (const [from, to] of Object.entries(files)) {
  const target = join(out, to);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(here, "node_modules", from), target);
}
for (const [entry, bundle] of [["modeler.js", "studio-modeler.min.js"], ["dmn.js", "studio-dmn.min.js"]]) {
await build({
  entryPoints: [join(here, "studio", entry)],
  outfile: join(out, bundle),
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
});
}
const lock = JSON.parse(readFileSync(join(here, "package-lock.json"), "utf8"));
const pinned = ["htmx.org", "bpmn-js", "bpmn-js-properties-panel", "@bpmn-io/properties-panel", "dmn-js", "echarts", "esbuild"];
const versions = Object.fromEntries(pinned.map((name) => [name, lock.packages[`node_modules/${name}`].version]));
writeFileSync(join(out, "VERSIONS.json"), JSON.stringify(versions, null, 2) + "\n");
