// My Library: the caller's tuned models and those shared with them, with a progress bar
// for each one still training; search by name.

import { bareId, listAll } from "./api.js";
import { field, h, notice, replace, stateBadge, timeElement } from "./dom.js";
import { describeJob, jobView, latestOperation, stepProgress } from "./progress.js";

const POLL_MS = 2000;

export function showLibrary(main, { flash }) {
  const controller = new AbortController();
  const options = { signal: controller.signal };
  let models = [];
  let progress = new Map(); // model name -> {operation, job}
  let timer = null;

  const search = h("input", { type: "search", autocomplete: "off", oninput: () => draw() });
  const everyone = h("input", { type: "checkbox", id: "lib-everyone", onchange: () => load() });
  const status = h("p", { class: "muted", role: "status" }, "Loading…");
  const body = h("div", { class: "library" });
  replace(
    main,
    h("div", { class: "page-head" },
      h("h1", { tabindex: "-1" }, "My Library"),
      h("a", { class: "button primary", href: "#/new" }, "New tuned model")),
    flash ? notice("ok", flash) : null,
    h("div", { class: "toolbar" },
      field("Search by name", search),
      h("div", { class: "check" }, everyone,
        h("label", { for: "lib-everyone" }, "Include models everyone can read"))),
    status,
    body,
  );

  async function load() {
    clearTimeout(timer);
    try {
      const lists = [listAll("tunedModels", "tunedModels", options)];
      if (everyone.checked) lists.push(listAll("tunedModels?filter=readers:everyone", "tunedModels", options));
      const byName = new Map();
      for (const list of await Promise.all(lists)) for (const m of list) byName.set(m.name, m);
      models = [...byName.values()].sort((a, b) => b.createTime.localeCompare(a.createTime));
      const training = models.filter((m) => m.state === "CREATING");
      const found = await Promise.all(training.map(async (m) => {
        const id = bareId(m.name);
        const [operation, job] = await Promise.all([latestOperation(id, options), jobView(id, options)]);
        return [m.name, { operation, job }];
      }));
      progress = new Map(found);
      draw();
      if (training.length) timer = setTimeout(load, POLL_MS);
    } catch (error) {
      if (error.name === "AbortError") return;
      replace(status, "");
      replace(body, notice("error", `Could not load your tuned models: ${error.message}`));
    }
  }

  function draw() {
    const term = search.value.trim().toLowerCase();
    const shown = models.filter((m) =>
      `${m.displayName || ""} ${bareId(m.name)}`.toLowerCase().includes(term));
    const count = `${models.length} tuned model${models.length === 1 ? "" : "s"}`;
    replace(status, term ? `${shown.length} of ${count} match “${search.value.trim()}”.` : `${count}.`);
    if (!models.length) {
      replace(body, h("div", { class: "empty" },
        h("p", {}, "No tuned models yet."),
        h("p", {}, h("a", { href: "#/new" }, "Create your first tuned model"),
          " from a CSV, JSON or JSONL file of examples.")));
      return;
    }
    // Polling redraws the table: keep a keyboard user's focus on the same model's link.
    const focused = body.contains(document.activeElement) && document.activeElement.closest("tr");
    replace(body, h("table", { class: "models responsive" },
      h("caption", { class: "visually-hidden" }, "Your tuned models and those shared with you"),
      h("thead", {}, h("tr", {},
        ["Name", "State", "Base model", "Created"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, shown.map(row))));
    if (focused) {
      const link = body.querySelector(`tr[data-model="${focused.dataset.model}"] a`);
      if (link) link.focus();
    }
  }

  function row(m) {
    const id = bareId(m.name);
    const name = m.displayName || id;
    return h("tr", { "data-model": id },
      h("td", { "data-label": "Name" },
        h("a", { href: `#/models/${id}` }, name),
        m.displayName ? h("div", { class: "sub" }, id) : null),
      h("td", { "data-label": "State" }, stateCell(m, name)),
      h("td", { "data-label": "Base model" }, m.baseModel.replace(/^models\//, "")),
      h("td", { "data-label": "Created" }, timeElement(m.createTime)));
  }

  function stateCell(m, name) {
    if (m.state !== "CREATING") return stateBadge(m.state);
    const { operation, job } = progress.get(m.name) || {};
    const { done, total } = stepProgress(m, operation);
    const bar = h("progress", { max: total || 1, "aria-label": `Training progress of ${name}` });
    bar.value = total ? done : 0;
    if (!total) bar.removeAttribute("value"); // indeterminate until the step count is known
    return h("div", { class: "progress-cell" }, stateBadge(m.state),
      bar, h("span", { class: "sub" }, describeJob(m, operation, job)));
  }

  load();
  return { dispose: () => { controller.abort(); clearTimeout(timer); } };
}
