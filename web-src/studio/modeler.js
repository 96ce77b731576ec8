// The studio's bundle: bpmn-js Modeler + the properties panel + our spiffworkflow: moddle and
// panel groups, as one browser file (window.XinedaiStudio). The page script (static/js/studio/
// draft.js) gives it a `studio` object: the draft's files, the helper table, the proof's problems
// and the preview endpoint.
import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import spiffworkflow from "./spiffworkflow.json";
import SpiffPropertiesProvider, { extension, propertyValue } from "./spiff-provider.js";

function createModeler(options) {
  return new BpmnModeler({
    container: options.container,
    propertiesPanel: { parent: options.panel },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      {
        __init__: ["spiffPropertiesProvider"],
        spiffPropertiesProvider: ["type", SpiffPropertiesProvider],
        studio: ["value", options.studio],
      },
    ],
    moddleExtensions: { spiffworkflow },
  });
}

window.XinedaiStudio = { createModeler, extension, propertyValue, descriptor: spiffworkflow };
