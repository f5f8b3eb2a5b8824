// Playground: one prompt to a tuned model and to its base model, side by side, with the
// sampling settings; both answers stream in as they are generated.

import { get, listAll, streamGenerate } from "./api.js";
import { field, h, notice, replace } from "./dom.js";

export function showPlayground(main, { params }) {
  const controller = new AbortController();
  const options = { signal: controller.signal };
  let running = null; // the AbortController of the current run
  let models = []; // ACTIVE tuned models, and the one asked for by the URL

  const modelSelect = h("select", { onchange: () => chosen() }, h("option", { value: "" }, "Loading…"));
  const compare = h("input", { type: "checkbox", id: "pg-compare", checked: true });
  const compareLabel = h("label", { for: "pg-compare" }, "Compare with its base model");
  const prompt = h("textarea", { rows: 4, onkeydown: (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run(e); } });
  const temperature = number({ min: 0, max: 2, step: 0.05 });
  const topP = number({ min: 0, max: 1, step: 0.05 });
  const topK = number({ min: 1, step: 1 });
  const maxTokens = number({ min: 1, step: 1, placeholder: "server default" });
  const runButton = h("button", { type: "submit", class: "primary" }, "Run");
  const stopButton = h("button", { type: "button", disabled: true, onclick: () => running && running.abort() }, "Stop");
  const message = h("div");
  const panes = h("div", { class: "panes" });

  replace(main,
    h("h1", { tabindex: "-1" }, "Playground"),
    h("form", { class: "playground", novalidate: true, onsubmit: run },
      h("div", { class: "row" },
        h("div", { class: "grow" }, field("Tuned model", modelSelect)),
        h("div", { class: "check end" }, compare, compareLabel)),
      field("Prompt", prompt, "Write it the way the training examples' inputs were written. Ctrl+Enter runs it."),
      h("details", { class: "sampling", open: true }, h("summary", {}, "Sampling"),
        h("div", { class: "row" },
          field("Temperature", temperature, "0 always picks the likeliest word; higher is more varied."),
          field("Top-p", topP, "Sample only from the likeliest words that together reach this probability."),
          field("Top-k", topK, "Sample only from this many likeliest words."),
          field("Max output tokens", maxTokens, "Stop after this many tokens."))),
      h("div", { class: "actions" }, runButton, stopButton)),
    message, panes);

  function number(attrs) {
    return h("input", { type: "number", inputmode: "decimal", ...attrs });
  }

  function selected() {
    return models.find((m) => m.name === modelSelect.value);
  }

  function chosen() {
    const model = selected();
    if (!model) return;
    history.replaceState(null, "", `#/playground?model=${encodeURIComponent(model.name)}`);
    replace(compareLabel, `Compare with its base model (${model.baseModel.replace(/^models\//, "")})`);
    // The model's own defaults (inherited from its base unless set when tuning).
    temperature.value = model.temperature ?? "";
    topP.value = model.topP ?? "";
    topK.value = model.topK ?? "";
  }

  function config() {
    const result = {};
    const pairs = [["temperature", temperature], ["topP", topP], ["topK", topK], ["maxOutputTokens", maxTokens]];
    for (const [key, input] of pairs) if (input.value.trim() !== "") result[key] = Number(input.value);
    return result;
  }

  function pane(title) {
    const output = h("div", { class: "output", "aria-live": "polite", "aria-busy": "true", "data-chunks": 0 });
    const meta = h("p", { class: "meta muted" }, "Waiting for the first words…");
    const element = h("section", { class: "pane", "aria-label": `Answer of ${title}` }, h("h2", {}, title), output, meta);
    return { element, output, meta };
  }

  async function stream(name, target, request, signal) {
    let chunks = 0;
    try {
      const last = await streamGenerate(name, request, (text) => {
        chunks += 1;
        target.output.append(text);
        target.output.dataset.chunks = chunks;
        if (chunks === 1) replace(target.meta, "Generating…");
      }, { signal });
      const usage = last.usage ? `, ${last.usage.candidatesTokenCount} tokens` : "";
      const reason = { STOP: "finished", MAX_TOKENS: "reached the token limit" }[last.finishReason] ||
        (last.finishReason ? last.finishReason.toLowerCase() : "ended without a finish reason");
      replace(target.meta, `Done: ${reason}${usage}.`);
      if (!chunks) replace(target.output, h("span", { class: "muted" }, "(no text)"));
    } catch (error) {
      if (error.name === "AbortError") replace(target.meta, "Stopped.");
      else replace(target.meta, notice("error", error.message));
    } finally {
      target.output.setAttribute("aria-busy", "false");
    }
  }

  async function run(event) {
    event.preventDefault();
    const model = selected();
    if (!model) return replace(message, notice("error", "Choose a tuned model first."));
    if (!prompt.value.trim()) {
      prompt.focus();
      return replace(message, notice("error", "Write a prompt first."));
    }
    replace(message);
    const request = { contents: [{ role: "user", parts: [{ text: prompt.value }] }], generationConfig: config() };
    running = new AbortController();
    const signal = running.signal;
    runButton.disabled = true;
    stopButton.disabled = false;
    const targets = [[model.name, pane(model.displayName || model.name)]];
    if (compare.checked) targets.push([model.baseModel, pane(model.baseModel)]);
    replace(panes, targets.map(([, p]) => p.element));
    await Promise.all(targets.map(([name, p]) => stream(name, p, request, signal)));
    runButton.disabled = false;
    stopButton.disabled = true;
    running = null;
  }

  async function load() {
    try {
      const all = await listAll("tunedModels", "tunedModels", options);
      models = all.filter((m) => m.state === "ACTIVE");
      const wanted = params.get("model");
      if (wanted && !models.some((m) => m.name === wanted)) models.unshift(await get(wanted, options));
      if (!models.length) {
        replace(modelSelect, h("option", { value: "" }, "No tuned model is ready yet"));
        replace(message, notice("info", "No tuned model is ready yet. ", h("a", { href: "#/new" }, "Tune one"), " first."));
        return;
      }
      replace(modelSelect, models.map((m) => h("option", { value: m.name },
        m.state === "ACTIVE" ? m.displayName || m.name : `${m.displayName || m.name} (${m.state.toLowerCase()})`)));
      modelSelect.value = wanted && models.some((m) => m.name === wanted) ? wanted : models[0].name;
      chosen();
    } catch (error) {
      if (error.name !== "AbortError") replace(message, notice("error", error.message));
    }
  }

  load();
  return { dispose: () => { controller.abort(); if (running) running.abort(); } };
}
