// New tuned model: choose or paste examples, see every problem (or a preview) before
// anything is sent, pick a base model and hyperparameters, see the step count and a duration
// estimate, submit.

import { bareId, call, listAll } from "./api.js";
import {
  checkFile, failed, guessFormat, LIMITS, parseDataset, previewRow, readDataset,
} from "./dataset.js";
import { field, formatDuration, h, notice, replace, uid } from "./dom.js";
import { estimateDuration } from "./progress.js";

const PREVIEW_ROWS = 10;
// The server's defaults (training/spec.py), shown in the form.
const DEFAULTS = { epochs: 5, batchSize: 4, learningRate: 0.001, multiplier: 1 };
const SAMPLE = 'text_input,output\n"Ticket: printer on fire",urgent\n"Ticket: new mouse please",routine\n';

export function showCreate(main) {
  const controller = new AbortController();
  const options = { signal: controller.signal };
  let dataset = null; // the last checked dataset: {examples, records, problems, source}
  let tunedModels = [];
  let pasteTimer = null;

  const file = h("input", { type: "file", accept: ".csv,.json,.jsonl,.ndjson", onchange: readFile });
  const paste = h("textarea", { rows: 6, spellcheck: "false", oninput: () => schedulePaste() });
  const pasteFormat = h("select", { onchange: () => checkPaste() },
    h("option", { value: "" }, "Detect"), h("option", { value: "csv" }, "CSV"),
    h("option", { value: "jsonl" }, "JSONL"), h("option", { value: "json" }, "JSON"));
  const inputKey = h("input", { type: "text", value: "text_input", autocomplete: "off", onchange: recheck });
  const outputKey = h("input", { type: "text", value: "output", autocomplete: "off", onchange: recheck });
  const report = h("div", { class: "report", "aria-live": "polite" });

  const displayName = h("input", { type: "text", maxlength: 40, autocomplete: "off" });
  const description = h("input", { type: "text", autocomplete: "off" });
  const baseModel = h("select", { onchange: () => summarize() }, h("option", { value: "" }, "Loading…"));
  const epochs = numberInput(DEFAULTS.epochs, { min: 1, max: 1000, step: 1 });
  const batchSize = numberInput(DEFAULTS.batchSize, { min: 1, max: 256, step: 1 });
  const rateMode = uid("rate");
  const rateFixed = h("input", { type: "radio", name: rateMode, id: `${rateMode}-fixed`, checked: true, onchange: rateChanged });
  const rateScaled = h("input", { type: "radio", name: rateMode, id: `${rateMode}-scaled`, onchange: rateChanged });
  // Positive, at most 1 in effect: the server checks both and says so in words.
  const learningRate = numberInput(DEFAULTS.learningRate, { step: "any" });
  const multiplier = numberInput(DEFAULTS.multiplier, { step: "any" });
  const rateField = field("Learning rate", learningRate,
    "How far each step moves the model. Too high and the loss jumps around; too low and it barely falls. Default 0.001.");
  const multiplierField = field("Learning rate multiplier", multiplier,
    "Multiplies the default rate of 0.001: 2 doubles it, 0.5 halves it. Default 1.");
  multiplierField.hidden = true;
  const summary = h("div", { class: "summary", "aria-live": "polite" });
  const outcome = h("div", { class: "outcome" });
  const submit = h("button", { type: "submit", class: "primary" }, "Start tuning");

  const form = h("form", { class: "create", novalidate: true, onsubmit: start },
    h("section", { "aria-labelledby": "data-title" },
      h("h2", { id: "data-title" }, "1. Examples"),
      h("p", {}, `Each example is an input and the output you want for it. At least ${LIMITS.minExamples} ` +
        "(100–500 work best); inputs up to 40,000 characters, outputs up to 5,000."),
      field("Upload a file of examples (CSV, JSON or JSONL, at most 4 MB)", file),
      h("details", {}, h("summary", {}, "What should the file look like?"),
        h("p", {}, "A CSV file with a header row naming the columns text_input and output:"),
        h("pre", {}, SAMPLE),
        h("p", {}, 'Or JSONL, one {"text_input": "…", "output": "…"} per line, or a JSON list of such objects.')),
      h("div", { class: "row" },
        h("div", { class: "grow" }, field("Or paste examples", paste)),
        field("Format of the pasted text", pasteFormat)),
      h("details", {}, h("summary", {}, "Column names"),
        h("div", { class: "row" },
          field("Input column (or key)", inputKey),
          field("Output column (or key)", outputKey))),
      report),
    h("section", { "aria-labelledby": "model-title" },
      h("h2", { id: "model-title" }, "2. Model"),
      field("Display name", displayName, "Up to 40 characters; the model's id is made from it."),
      field("Description (optional)", description),
      field("Base model", baseModel, "The model your examples tune. Smaller models tune faster.")),
    h("section", { "aria-labelledby": "hp-title" },
      h("h2", { id: "hp-title" }, "3. Hyperparameters"),
      h("div", { class: "row" },
        field("Epochs", epochs,
          "How many times training goes through all your examples. More fit them more closely; too many memorise them. Default 5."),
        field("Batch size", batchSize,
          "How many examples each step learns from. Larger batches make fewer, smoother steps. Default 4.")),
      h("fieldset", {},
        h("legend", {}, "Learning rate"),
        h("div", { class: "check" }, rateFixed, h("label", { for: rateFixed.id }, "Set the rate")),
        h("div", { class: "check" }, rateScaled, h("label", { for: rateScaled.id }, "Scale the default rate")),
        rateField, multiplierField),
      summary),
    outcome,
    h("div", { class: "actions" }, submit));

  replace(main, h("h1", { tabindex: "-1" }, "New tuned model"), form);
  for (const input of [epochs, batchSize]) input.addEventListener("input", () => summarize());

  function numberInput(value, attrs) {
    return h("input", { type: "number", inputmode: "decimal", value, required: true, ...attrs });
  }

  function rateChanged() {
    rateField.hidden = !rateFixed.checked;
    multiplierField.hidden = rateFixed.checked;
  }

  function keys() {
    return { inputKey: inputKey.value.trim() || "text_input", outputKey: outputKey.value.trim() || "output" };
  }

  async function readFile() {
    const chosen = file.files[0];
    if (!chosen) return;
    paste.value = "";
    const early = checkFile(chosen.name, chosen.size);
    const bytes = early.length ? null : new Uint8Array(await chosen.arrayBuffer());
    show(early.length ? failed(chosen.name, early) : readDataset(bytes, chosen.name, keys()));
    if (!displayName.value) displayName.value = chosen.name.replace(/\.[^.]*$/, "").slice(0, 40);
  }

  function schedulePaste() {
    clearTimeout(pasteTimer);
    pasteTimer = setTimeout(checkPaste, 400);
  }

  function checkPaste() {
    if (!paste.value.trim()) {
      if (!file.files[0]) show(null);
      return;
    }
    file.value = "";
    const format = pasteFormat.value || guessFormat(paste.value);
    show(parseDataset(new TextEncoder().encode(paste.value), format, "pasted examples", keys()));
  }

  function recheck() {
    if (file.files[0]) readFile();
    else checkPaste();
  }

  function show(result) {
    dataset = result;
    replace(outcome);
    if (!result) {
      replace(report);
      summarize();
      return;
    }
    const { problems, examples, records, count, source } = result;
    const status = problems.length
      ? notice("error", h("strong", {}, `${source} has ${problems.length} problem${problems.length === 1 ? "" : "s"}`),
        " — fix them and choose the file again. Nothing has been sent.")
      : notice("ok", h("strong", {}, `${examples.length} examples`), ` from ${source}, all valid.`);
    replace(report, status,
      problems.length ? problemTable(problems) : null,
      records.length ? previewTable(records, count) : null);
    summarize();
  }

  function problemTable(problems) {
    return h("table", { class: "problems responsive" },
      h("caption", {}, "Problems found"),
      h("thead", {}, h("tr", {}, ["Where", "Field", "Problem"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, problems.map((p) => h("tr", {},
        h("td", { "data-label": "Where" }, p.location),
        h("td", { "data-label": "Field" }, p.field || "—"),
        h("td", { "data-label": "Problem" }, p.message)))));
  }

  function previewTable(records, count) {
    const rows = records.slice(0, PREVIEW_ROWS).map((r) => previewRow(r, keys()));
    const caption = count > rows.length
      ? `Preview: the first ${rows.length} of ${count} examples read` : `Preview: ${count} examples read`;
    return h("table", { class: "preview responsive" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ["Where", "Text input", "Output"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.map((r) => h("tr", {},
        h("td", { "data-label": "Where" }, r.location),
        h("td", { "data-label": "Text input" }, h("div", { class: "cell-text" }, r.textInput)),
        h("td", { "data-label": "Output" }, h("div", { class: "cell-text" }, r.output))))));
  }

  function stepCount() {
    const n = dataset && !dataset.problems.length ? dataset.examples.length : 0;
    const e = Number(epochs.value), b = Number(batchSize.value);
    if (!n || !(e >= 1) || !(b >= 1)) return null;
    return { n, e, b, steps: Math.ceil((n * e) / b) };
  }

  function summarize() {
    const count = stepCount();
    if (!count) {
      replace(summary, h("p", {}, "Steps: shown once the examples are valid."));
      return;
    }
    const { n, e, b, steps } = count;
    const option = baseModel.selectedOptions[0];
    const baseName = option ? option.textContent : "this base model";
    const estimate = estimateDuration(tunedModels, baseModel.value, steps);
    const duration = estimate
      ? `about ${formatDuration(estimate.seconds)}, judging by ${estimate.runs} earlier tuned ` +
        `model${estimate.runs === 1 ? "" : "s"} on ${baseName} (${estimate.perStep.toFixed(2)} s per step, ` +
        `${formatDuration(estimate.startup)} to start), plus any wait in the queue`
      : `unknown until a first job on ${baseName} finishes`;
    replace(summary,
      h("p", {}, h("strong", {}, `Steps: ${steps.toLocaleString("en-US")}`),
        ` (${n} examples × ${e} epochs ÷ batch size ${b}, rounded up)`),
      h("p", {}, h("strong", {}, "Estimated duration: "), duration));
  }

  function hyperparameters() {
    const hp = { epochCount: Number(epochs.value), batchSize: Number(batchSize.value) };
    if (rateFixed.checked) hp.learningRate = Number(learningRate.value);
    else hp.learningRateMultiplier = Number(multiplier.value);
    return hp;
  }

  async function start(event) {
    event.preventDefault();
    if (!dataset) return refuse("Choose a file of examples, or paste them, first.");
    if (dataset.problems.length) return refuse("Fix the problems listed under Examples first.");
    for (const input of [displayName, epochs, batchSize, rateFixed.checked ? learningRate : multiplier]) {
      if (!input.checkValidity()) {
        input.focus();
        return refuse(`${labelOf(input)}: ${input.validationMessage}`);
      }
    }
    const body = {
      baseModel: baseModel.value,
      tuningTask: {
        hyperparameters: hyperparameters(),
        trainingData: { examples: { examples: dataset.examples.map((e) => ({ textInput: e.textInput, output: e.output })) } },
      },
    };
    if (displayName.value.trim()) body.displayName = displayName.value.trim();
    if (description.value.trim()) body.description = description.value.trim();
    submit.disabled = true;
    replace(outcome, notice("info", "Sending the examples…"));
    try {
      const operation = await call("POST", "tunedModels", body, options);
      location.hash = `#/models/${bareId(operation.metadata.tunedModel)}`;
    } catch (error) {
      if (error.name === "AbortError") return;
      replace(outcome, serverRefusal(error));
    } finally {
      submit.disabled = false;
    }
  }

  function labelOf(input) {
    return input.labels && input.labels[0] ? input.labels[0].textContent : "This field";
  }

  function refuse(message) {
    replace(outcome, notice("error", message));
  }

  function serverRefusal(error) {
    // The server numbers examples from 0 in the order sent: point back at the file's rows.
    const where = (text) => {
      const match = /^example (\d+)\b/.exec(text);
      const example = match && dataset.examples[Number(match[1])];
      return example && example.location !== `example ${match[1]}` ? `${text} (${example.location} of ${dataset.source})` : text;
    };
    if (!error.violations.length) return notice("error", h("strong", {}, "The server refused: "), error.message);
    return notice("error", h("strong", {}, "The server found problems with the examples:"),
      h("ul", {}, error.violations.map((v) => h("li", {}, where(v.description)))));
  }

  async function loadChoices() {
    try {
      const [models, tuned] = await Promise.all([
        listAll("models", "models", options),
        listAll("tunedModels", "tunedModels", options).catch(() => []),
      ]);
      tunedModels = tuned;
      const tunable = models.filter((m) => (m.supportedGenerationMethods || []).includes("createTunedModel"));
      replace(baseModel, tunable.map((m) => h("option", { value: m.name }, m.displayName || m.name)));
      if (!tunable.length) refuse("This server offers no base model that can be tuned.");
      summarize();
    } catch (error) {
      if (error.name !== "AbortError") refuse(`Could not load the base models: ${error.message}`);
    }
  }

  rateChanged();
  summarize();
  loadChoices();
  return { dispose: () => { controller.abort(); clearTimeout(pasteTimer); } };
}
