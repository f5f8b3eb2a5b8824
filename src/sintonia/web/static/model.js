// A tuned model's page: state, hyperparameters, the live loss curve (polled while the job
// runs), snapshots, cancel and delete (each confirmed), and sharing.

import { call, get } from "./api.js";
import { lossChart } from "./chart.js";
import { confirmDialog, h, notice, replace, stateBadge, timeElement } from "./dom.js";
import { describeJob, jobView, latestOperation, stepProgress, wasCancelled } from "./progress.js";
import { sharingSection } from "./sharing.js";

const POLL_MS = 1000;

export function showModel(main, { id, setFlash }) {
  const controller = new AbortController();
  const options = { signal: controller.signal };
  let timer = null;
  let model = null, operation = null, job = null;
  let lastStatus = "";

  const title = h("h1", { tabindex: "-1" }, id);
  const badge = h("span");
  const status = h("p", { class: "status-line", role: "status" });
  const bar = h("progress", { max: 1, "aria-label": "Training progress" });
  const actions = h("div", { class: "actions" });
  const message = h("div");
  const chart = h("div", { class: "chart-box" });
  const perEpochSummary = h("summary", {}, "Mean loss by epoch");
  const perEpoch = h("div");
  const details = h("dl", { class: "details" });
  const snapshotsSummary = h("summary");
  const snapshots = h("div", { class: "scroll" });
  const sharing = sharingSection(id, options);
  replace(main,
    h("p", { class: "crumb" }, h("a", { href: "#/library" }, "← My Library")),
    h("div", { class: "title-row" }, title, badge),
    status, bar, actions, message,
    h("section", { "aria-labelledby": "curve-title" },
      h("h2", { id: "curve-title" }, "Loss curve"),
      h("p", { class: "hint" }, "Mean loss per step; dashed lines mark where each epoch begins. " +
        "Where the curve flattens, more epochs add little."),
      chart, h("details", {}, perEpochSummary, perEpoch)),
    h("section", { "aria-labelledby": "details-title" },
      h("h2", { id: "details-title" }, "Details"), details),
    h("section", { "aria-labelledby": "snapshots-title" },
      h("h2", { id: "snapshots-title" }, "Snapshots"),
      h("details", {}, snapshotsSummary, snapshots)),
    sharing.element);

  async function refresh() {
    clearTimeout(timer);
    try {
      // The operation first: once it is done the model has ended too, so the model read
      // after it never shows a job still training under a "Cancelled" badge.
      operation = await latestOperation(id, options);
      [model, job] = await Promise.all([
        get(`tunedModels/${id}`, options),
        operation && operation.done ? null : jobView(id, options),
      ]);
      draw();
      if (model.state === "CREATING" || (operation && !operation.done)) timer = setTimeout(refresh, POLL_MS);
    } catch (error) {
      if (error.name === "AbortError") return;
      if (!model) {
        replace(main, h("h1", { tabindex: "-1" }, "Tuned model not available"),
          notice("error", error.message), h("p", {}, h("a", { href: "#/library" }, "Back to My Library")));
        return;
      }
      replace(message, notice("error", `Could not refresh: ${error.message}`));
      timer = setTimeout(refresh, POLL_MS * 5);
    }
  }

  function draw() {
    const name = model.displayName || id;
    document.title = `${name} — Sintonia`;
    replace(title, name);
    const cancelled = wasCancelled(operation);
    replace(badge, stateBadge(model.state, cancelled ? "Cancelled" : undefined));
    const text = describeJob(model, operation, job);
    if (text !== lastStatus) replace(status, text); // unchanged text is not announced again
    lastStatus = text;
    const { done, total } = stepProgress(model, operation);
    bar.hidden = model.state !== "CREATING";
    bar.max = total || 1;
    if (total) bar.value = done;
    else bar.removeAttribute("value");
    drawActions(name);
    drawDetails();
    const snaps = model.tuningTask.snapshots || [];
    const width = chart.clientWidth - 10 || 640;
    const drawn = `${snaps.length}/${total}/${model.state}/${width}`;
    if (chart.dataset.drawn === drawn) return; // nothing new since the last poll
    chart.dataset.drawn = drawn;
    replace(chart, lossChart(snaps, total, width));
    replace(perEpoch, epochTable(snaps));
    replace(snapshotsSummary, `${snaps.length} snapshot${snaps.length === 1 ? "" : "s"} (one per step)`);
    replace(snapshots, snapshotTable(snaps));
  }

  function drawActions(name) {
    const training = model.state === "CREATING";
    const key = `${model.state}`;
    if (actions.dataset.state === key) return; // keep focus on a button across polls
    actions.dataset.state = key;
    replace(actions,
      model.state === "ACTIVE"
        ? h("a", { class: "button primary", href: `#/playground?model=${encodeURIComponent(model.name)}` }, "Try it in the playground")
        : null,
      training ? h("button", { type: "button", onclick: () => cancel(name) }, "Cancel tuning") : null,
      h("button", { type: "button", class: "danger", onclick: () => remove(name) }, "Delete"));
  }

  function drawDetails() {
    const hp = model.tuningTask.hyperparameters || {};
    const task = model.tuningTask;
    const rows = [
      ["Name", model.name],
      ["Base model", model.baseModel],
      ["Description", model.description],
      ["Created", timeElement(model.createTime)],
      ["Training started", task.startTime ? timeElement(task.startTime) : null],
      ["Training finished", task.completeTime ? timeElement(task.completeTime) : null],
      ["Epochs", hp.epochCount],
      ["Batch size", hp.batchSize],
      ["Learning rate", hp.learningRate],
      ["Default temperature", model.temperature],
      ["Default top-p", model.topP],
      ["Default top-k", model.topK],
    ].filter(([, value]) => value !== undefined && value !== null && value !== "");
    replace(details, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
  }

  function epochTable(snaps) {
    const sums = new Map();
    for (const s of snaps) {
      const [sum, count] = sums.get(s.epoch) || [0, 0];
      sums.set(s.epoch, [sum + s.meanLoss, count + 1]);
    }
    if (!sums.size) return null;
    return h("table", { class: "compact" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Epoch"), h("th", { scope: "col" }, "Mean loss"))),
      h("tbody", {}, [...sums].map(([epoch, [sum, count]]) =>
        h("tr", {}, h("td", {}, epoch), h("td", {}, (sum / count).toFixed(4))))));
  }

  function snapshotTable(snaps) {
    if (!snaps.length) return h("p", { class: "muted" }, "No steps yet.");
    return h("table", { class: "compact" },
      h("thead", {}, h("tr", {}, ["Step", "Epoch", "Mean loss", "Time"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, snaps.map((s) => h("tr", {},
        h("td", {}, s.step), h("td", {}, s.epoch), h("td", {}, s.meanLoss.toFixed(4)),
        h("td", {}, new Date(s.computeTime).toLocaleTimeString())))));
  }

  async function cancel(name) {
    const yes = await confirmDialog({
      title: `Cancel tuning ${name}?`,
      message: "Training stops after its current step. The model keeps its last completed epoch, " +
        "if it has one, and can still be called.",
      confirm: "Cancel tuning",
      cancel: "Keep training",
      danger: true,
    });
    if (!yes) return;
    try {
      await call("POST", `tunedModels/${id}:cancel`, {}, options);
      replace(message, notice("ok", "Cancel requested: the job stops after its current step."));
      refresh();
    } catch (error) {
      if (error.name !== "AbortError") replace(message, notice("error", `Could not cancel: ${error.message}`));
    }
  }

  async function remove(name) {
    const yes = await confirmDialog({
      title: `Delete ${name}?`,
      message: "The tuned model and its adapters are deleted for everyone it is shared with. This cannot be undone.",
      confirm: "Delete",
      cancel: "Keep it",
      danger: true,
    });
    if (!yes) return;
    try {
      await call("DELETE", `tunedModels/${id}`, undefined, options);
      setFlash(`Deleted ${name}.`);
      location.hash = "#/library";
    } catch (error) {
      if (error.name !== "AbortError") replace(message, notice("error", `Could not delete: ${error.message}`));
    }
  }

  const resized = () => model && draw();
  window.addEventListener("resize", resized);
  refresh();
  return {
    dispose: () => {
      controller.abort();
      clearTimeout(timer);
      window.removeEventListener("resize", resized);
    },
  };
}
