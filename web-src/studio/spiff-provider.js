// Properties-panel groups for the spiffworkflow: extensions our diagrams use (stage mark, user-task
// form / UI schema / priority / dueIn / instructions / contact channel and target, service-task
// operator and parameters, pre/post scripts, script tasks, DMN decision ids, message variable /
// payload and correlation). Every change goes through bpmn-js's command stack (undo works) and
// keeps the extension elements the engine reads.
import { h } from "@bpmn-io/properties-panel/preact";
import { useEffect, useState, useRef } from "@bpmn-io/properties-panel/preact/hooks";
import { SelectEntry, TextAreaEntry, TextFieldEntry, isSelectEntryEdited, isTextAreaEntryEdited,
  isTextFieldEntryEdited } from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";

const STAGES = ["", "assessment", "informal", "formal", "litigation", "mediation", "review"];
const CHANNELS = ["", "call", "sms", "email", "visit", "letter", "voice"];
const TARGETS = ["", "borrower", "guarantor", "emergency_contact"];
const OPERATORS = ["send_sms", "send_email", "send_voice", "send_letter", "http"];

function is(bo, type) { return bo && bo.$instanceOf && bo.$instanceOf(type); }
function extensions(bo) { return (bo && bo.extensionElements && bo.extensionElements.values) || []; }
export function extension(bo, type) { return extensions(bo).find((v) => v.$type === type); }
function eventDefinition(bo, type) { return ((bo && bo.eventDefinitions) || []).find((d) => d.$type === type); }
export function propertyValue(bo, name) {
  const props = extension(bo, "spiffworkflow:Properties");
  const found = props && (props.properties || []).find((p) => p.name === name);
  return found ? found.value || "" : "";
}

// -- writing: create the containers on demand, one command each --------------------------------
function ensureExtensions(element, bo, modeling, bpmnFactory) {
  if (!bo.extensionElements) {
    const created = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    created.$parent = bo;
    modeling.updateModdleProperties(element, bo, { extensionElements: created });
  }
  return bo.extensionElements;
}
function ensureExtension(element, bo, type, modeling, bpmnFactory) {
  const existing = extension(bo, type);
  if (existing) { return existing; }
  const holder = ensureExtensions(element, bo, modeling, bpmnFactory);
  const created = bpmnFactory.create(type);
  created.$parent = holder;
  modeling.updateModdleProperties(element, holder, { values: [...(holder.values || []), created] });
  return created;
}
function setProperty(element, bo, name, value, modeling, bpmnFactory) {
  const props = ensureExtension(element, bo, "spiffworkflow:Properties", modeling, bpmnFactory);
  const list = props.properties || [];
  const found = list.find((p) => p.name === name);
  if (!value) {
    if (found) { modeling.updateModdleProperties(element, props, { properties: list.filter((p) => p !== found) }); }
  } else if (found) {
    modeling.updateModdleProperties(element, found, { value });
  } else {
    const created = bpmnFactory.create("spiffworkflow:Property", { name, value });
    created.$parent = props;
    modeling.updateModdleProperties(element, props, { properties: [...list, created] });
  }
}
function setBody(element, bo, type, value, modeling, bpmnFactory) {
  const found = extension(bo, type);
  if (!value && found) {
    const holder = bo.extensionElements;
    modeling.updateModdleProperties(element, holder, { values: holder.values.filter((v) => v !== found) });
    return;
  }
  if (!value) { return; }
  modeling.updateModdleProperties(element, ensureExtension(element, bo, type, modeling, bpmnFactory), { value });
}

// -- entries ------------------------------------------------------------------------------------
function PropertyEntry(props) {
  const { element, id, name, label, description, choices, bo } = props;
  const modeling = useService("modeling");
  const bpmnFactory = useService("bpmnFactory");
  const debounce = useService("debounceInput");
  const owner = bo || element.businessObject;
  const common = {
    element, id, label, description,
    getValue: () => propertyValue(owner, name),
    setValue: (value) => setProperty(element, owner, name, value, modeling, bpmnFactory),
  };
  if (choices) {
    return h(SelectEntry, { ...common, getOptions: () => choices().map((c) => ({ value: c, label: c || "–" })) });
  }
  return h(TextFieldEntry, { ...common, debounce });
}

function BodyEntry(props) {
  const { element, id, type, label, description, rows, bo, onText } = props;
  const modeling = useService("modeling");
  const bpmnFactory = useService("bpmnFactory");
  const debounce = useService("debounceInput");
  const owner = bo || element.businessObject;
  const found = extension(owner, type);
  return h(TextAreaEntry, {
    element, id, label, description, debounce, rows: rows || 4, monospace: true,
    getValue: () => (extension(owner, type) || {}).value || "",
    setValue: (value) => {
      setBody(element, owner, type, value, modeling, bpmnFactory);
      if (onText) { onText(value); }
    },
    key: found ? found.id || type : type,
  });
}

// A one-line-per-call script with completion from the helper table: the identifier before the
// cursor is matched against the helpers; a click (or Tab) inserts the helper's call.
function ScriptEntry(props) {
  const { element, id, label, read, write } = props;
  const studio = useService("studio");
  const [text, setText] = useState(read());
  const [matches, setMatches] = useState([]);
  const area = useRef(null);
  useEffect(() => { setText(read()); setMatches([]); }, [element, id]);
  function word() {
    const node = area.current;
    const before = node.value.slice(0, node.selectionStart);
    const m = /[A-Za-z_][A-Za-z0-9_]*$/.exec(before);
    return m ? m[0] : "";
  }
  function suggest() {
    const prefix = word();
    setMatches(prefix.length < 2 ? [] : studio.helpers().filter((h) => h.name.startsWith(prefix)).slice(0, 8));
  }
  function insert(helper) {
    const node = area.current;
    const prefix = word();
    const start = node.selectionStart - prefix.length;
    const call = helper.name + "(" + (helper.params || []).join(", ") + ")";
    const next = node.value.slice(0, start) + call + node.value.slice(node.selectionStart);
    setText(next);
    write(next);
    setMatches([]);
    node.focus();
  }
  return h("div", { class: "bio-properties-panel-entry studio-script", "data-entry-id": id },
    h("label", { class: "bio-properties-panel-label", for: "bio-properties-panel-" + id }, label),
    h("textarea", {
      id: "bio-properties-panel-" + id, name: id, ref: area, rows: 6, spellcheck: false,
      class: "bio-properties-panel-input studio-mono", value: text,
      onInput: (e) => { setText(e.target.value); suggest(); },
      onChange: (e) => write(e.target.value),
      onKeyDown: (e) => { if (e.key === "Tab" && matches.length) { e.preventDefault(); insert(matches[0]); } },
    }),
    matches.length ? h("ul", { class: "studio-completions", role: "listbox" }, matches.map((m) =>
      h("li", { key: m.name },
        h("button", { type: "button", class: "studio-completion", "data-helper": m.name, onClick: () => insert(m) },
          h("code", null, m.name + "(" + (m.params || []).join(", ") + ")"), m.doc ? " " + m.doc : "")))) : null);
}

function ScriptTaskEntry(props) {
  const { element, id } = props;
  const modeling = useService("modeling");
  const bo = element.businessObject;
  return h(ScriptEntry, {
    element, id, label: "Script (one helper call a line)",
    read: () => bo.script || "",
    write: (value) => { if (value !== (bo.script || "")) { modeling.updateModdleProperties(element, bo, { script: value, scriptFormat: bo.scriptFormat || "python" }); } },
  });
}

function ExtensionScriptEntry(props) {
  const { element, id, type, label } = props;
  const modeling = useService("modeling");
  const bpmnFactory = useService("bpmnFactory");
  const bo = element.businessObject;
  return h(ScriptEntry, {
    element, id, label,
    read: () => (extension(bo, type) || {}).value || "",
    write: (value) => { if (value !== ((extension(bo, type) || {}).value || "")) { setBody(element, bo, type, value, modeling, bpmnFactory); } },
  });
}

function InstructionsPreview(props) {
  const { element } = props;
  const studio = useService("studio");
  const text = (extension(element.businessObject, "spiffworkflow:InstructionsForEndUser") || {}).value || "";
  const [state, setState] = useState({ text: "", problems: [], loading: true });
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      studio.previewInstructions(element.id, text).then((answer) => { if (live) { setState({ ...answer, loading: false }); } });
    }, 300);
    return () => { live = false; clearTimeout(timer); };
  }, [element, text]);
  return h("div", { class: "bio-properties-panel-entry studio-preview", "data-entry-id": "instructionsPreview" },
    h("div", { class: "bio-properties-panel-label" }, "Preview against a sample case"),
    state.loading ? h("p", { class: "muted" }, "…") : h("pre", { id: "instructions-preview" }, state.text || ""),
    (state.problems || []).map((p, i) => h("p", { key: i, class: "studio-problem " + (p.severity || "error") }, p.message)));
}

function ParameterEntry(props) {
  const { element, id, parameter } = props;
  const modeling = useService("modeling");
  const debounce = useService("debounceInput");
  return h(TextFieldEntry, {
    element, id, debounce, label: parameter.id + " (" + (parameter.type || "any") + ")",
    description: { template: "a quoted template name, e.g. 'sms_reminder'", purpose: "a quoted purpose, e.g. 'collection'",
      to: "the target's address: an expression", target: "the contact target: an expression" }[parameter.id],
    getValue: () => parameter.value || "",
    setValue: (value) => modeling.updateModdleProperties(element, parameter, { value }),
  });
}

function OperatorEntry(props) {
  const { element, id, field } = props;
  const modeling = useService("modeling");
  const bpmnFactory = useService("bpmnFactory");
  const debounce = useService("debounceInput");
  const bo = element.businessObject;
  const get = () => (extension(bo, "spiffworkflow:ServiceTaskOperator") || {})[field] || "";
  const set = (value) => {
    const op = ensureExtension(element, bo, "spiffworkflow:ServiceTaskOperator", modeling, bpmnFactory);
    modeling.updateModdleProperties(element, op, { [field]: value || undefined });
  };
  if (field === "id") {
    return h(SelectEntry, { element, id, label: "Operator", getValue: get, setValue: set,
      getOptions: () => Array.from(new Set([get(), ...OPERATORS])).filter(Boolean).map((o) => ({ value: o, label: o })) });
  }
  return h(TextFieldEntry, { element, id, label: "Result variable", getValue: get, setValue: set, debounce });
}

function CorrelationEntry(props) {
  const { element, id, retrieval } = props;
  const modeling = useService("modeling");
  const debounce = useService("debounceInput");
  const expression = retrieval.messagePath;
  return h(TextFieldEntry, {
    element, id, debounce, label: "Correlation " + retrieval.$parent.name + " from the message",
    getValue: () => (expression && expression.body) || "",
    setValue: (value) => modeling.updateModdleProperties(element, expression, { body: value }),
  });
}

function LaneEntry(props) {
  const { element, id } = props;
  const lanes = (element.businessObject.lanes || []).map((l) => l.name || l.id);
  let shape = element.parent;
  while (!lanes.length && shape) {
    if (shape.businessObject && shape.businessObject.lanes) { lanes.push(...shape.businessObject.lanes.map((l) => l.name || l.id)); }
    shape = shape.parent;
  }
  return h("div", { class: "bio-properties-panel-entry", "data-entry-id": id },
    h("div", { class: "bio-properties-panel-label" }, "Lane (who works it; move the shape to change)"),
    h("p", { id: "lane-of-element" }, lanes.join(", ") || "–"));
}

function ProblemsEntry(props) {
  const { element } = props;
  const studio = useService("studio");
  const list = studio.problemsOf(element.id);
  return h("div", { class: "bio-properties-panel-entry studio-problems", "data-entry-id": "studioProblems" },
    list.map((p, i) => h("p", { key: i, class: "studio-problem " + (p.severity || "error") }, "⚠ " + p.message)));
}

// -- the provider -------------------------------------------------------------------------------
function messageCorrelations(bo, definitions) {
  const def = eventDefinition(bo, "bpmn:MessageEventDefinition");
  const message = def && def.messageRef;
  if (!message) { return []; }
  const found = [];
  (definitions.rootElements || []).filter((r) => is(r, "bpmn:CorrelationProperty")).forEach((prop) => {
    (prop.correlationPropertyRetrievalExpression || []).forEach((r) => {
      if (r.messageRef === message) { found.push(r); }
    });
  });
  return found;
}

export default function SpiffPropertiesProvider(propertiesPanel, studio, bpmnjs) {
  this.getGroups = function (element) {
    return function (groups) {
      const bo = element.businessObject;
      const spiff = [];
      if (studio.problemsOf(element.id).length) {
        spiff.push({ id: "studioProblems", component: ProblemsEntry, element });
      }
      if (is(bo, "bpmn:SubProcess")) {
        spiff.push({ id: "stage", component: PropertyEntry, element, name: "stage", label: "Stage mark",
          choices: () => STAGES, isEdited: isSelectEntryEdited });
      }
      if (is(bo, "bpmn:FlowNode") && !is(bo, "bpmn:SubProcess")) {
        spiff.push({ id: "lane", component: LaneEntry, element });
      }
      if (is(bo, "bpmn:UserTask") || is(bo, "bpmn:ManualTask")) {
        spiff.push(
          { id: "formJsonSchemaFilename", component: PropertyEntry, element, name: "formJsonSchemaFilename", label: "Form (JSON Schema file)",
            choices: () => ["", ...studio.files("forms/", ".json").filter((n) => !n.endsWith("uischema.json"))], isEdited: isSelectEntryEdited },
          { id: "formUiSchemaFilename", component: PropertyEntry, element, name: "formUiSchemaFilename", label: "UI schema file",
            choices: () => ["", ...studio.files("forms/", ".json")], isEdited: isSelectEntryEdited },
          { id: "priority", component: PropertyEntry, element, name: "priority", label: "Priority", description: "1 (first) … 9", isEdited: isTextFieldEntryEdited },
          { id: "dueIn", component: PropertyEntry, element, name: "dueIn", label: "Due in", description: "an ISO 8601 duration, e.g. P1D or PT4H", isEdited: isTextFieldEntryEdited },
          { id: "contactChannel", component: PropertyEntry, element, name: "contactChannel", label: "Contact channel", choices: () => CHANNELS, isEdited: isSelectEntryEdited },
          { id: "contactTarget", component: PropertyEntry, element, name: "contactTarget", label: "Contact target", choices: () => TARGETS, isEdited: isSelectEntryEdited },
          { id: "instructionsForEndUser", component: BodyEntry, element, type: "spiffworkflow:InstructionsForEndUser", label: "Instructions (Jinja + Markdown)", rows: 6, isEdited: isTextAreaEntryEdited },
          { id: "instructionsPreview", component: InstructionsPreview, element },
        );
      }
      if (is(bo, "bpmn:ServiceTask")) {
        spiff.push(
          { id: "operator", component: OperatorEntry, element, field: "id" },
          { id: "resultVariable", component: OperatorEntry, element, field: "resultVariable" },
        );
        const op = extension(bo, "spiffworkflow:ServiceTaskOperator");
        ((op && op.parameterList && op.parameterList.parameters) || []).forEach((p) => {
          spiff.push({ id: "parameter-" + p.id, component: ParameterEntry, element, parameter: p, isEdited: isTextFieldEntryEdited });
        });
      }
      if (is(bo, "bpmn:ScriptTask")) {
        spiff.push({ id: "script", component: ScriptTaskEntry, element });
      }
      if (is(bo, "bpmn:Task") && !is(bo, "bpmn:ScriptTask")) {
        spiff.push(
          { id: "preScript", component: ExtensionScriptEntry, element, type: "spiffworkflow:PreScript", label: "Pre-script" },
          { id: "postScript", component: ExtensionScriptEntry, element, type: "spiffworkflow:PostScript", label: "Post-script" },
        );
      }
      if (is(bo, "bpmn:BusinessRuleTask")) {
        spiff.push({ id: "calledDecisionId", component: BodyEntry, element, type: "spiffworkflow:CalledDecisionId", label: "Decision id (DMN)", rows: 1, isEdited: isTextAreaEntryEdited });
      }
      const message = eventDefinition(bo, "bpmn:MessageEventDefinition");
      if (message) {
        spiff.push(
          { id: "messageVariable", component: BodyEntry, element, bo: message, type: "spiffworkflow:MessageVariable", label: "Message variable (catch)", rows: 1, isEdited: isTextAreaEntryEdited },
          { id: "messagePayload", component: BodyEntry, element, bo: message, type: "spiffworkflow:MessagePayload", label: "Message payload (throw)", rows: 2, isEdited: isTextAreaEntryEdited },
        );
        messageCorrelations(bo, bpmnjs.getDefinitions()).forEach((r, i) => {
          spiff.push({ id: "correlation-" + i, component: CorrelationEntry, element, retrieval: r });
        });
      }
      if (spiff.length) {
        groups.splice(1, 0, { id: "spiffworkflow", label: "SpiffWorkflow", entries: spiff });
      }
      return groups;
    };
  };
  propertiesPanel.registerProvider(400, this);
}
SpiffPropertiesProvider.$inject = ["propertiesPanel", "studio", "bpmnjs"];
