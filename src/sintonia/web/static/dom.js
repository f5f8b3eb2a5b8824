// Small helpers to build the page. Text always goes in as text (never as HTML), so names and
// examples from users cannot inject markup.

/**
 * h("button", {class: "primary", onclick: f}, "Save") -> <button class="primary">Save</button>
 * Attributes: "class", "for", on* handlers, booleans (true sets, false/null/undefined skips);
 * children: strings, nodes, arrays of them, or null (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "value") el.value = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let lastId = 0;
/** A unique element id, for label `for` and aria-describedby. */
export function uid(prefix = "f") {
  lastId += 1;
  return `${prefix}-${lastId}`;
}

/** A labelled control with a one-line hint under it. */
export function field(label, control, hint) {
  control.id = control.id || uid();
  const children = [h("label", { for: control.id }, label), control];
  if (hint) {
    const hintId = uid("hint");
    control.setAttribute("aria-describedby", hintId);
    children.push(h("p", { class: "hint", id: hintId }, hint));
  }
  return h("div", { class: "field" }, children);
}

/** A message box: kind is "error", "ok" or "info". Errors are announced (role="alert"). */
export function notice(kind, ...children) {
  const role = kind === "error" ? "alert" : "status";
  return h("div", { class: `notice ${kind}`, role }, children);
}

export function formatTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function timeElement(iso) {
  return h("time", { datetime: iso }, formatTime(iso));
}

/** 95 -> "1 min 35 s", 7300 -> "2 h 2 min" */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  const minutes = Math.round((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${minutes ? ` ${minutes} min` : ""}`;
}

export function stateBadge(state, label) {
  const words = { CREATING: "Training", ACTIVE: "Ready", FAILED: "Failed" };
  const text = label || words[state] || state || "Unknown";
  return h("span", { class: `badge ${text.toLowerCase().replace(/[^a-z]/g, "")}` }, text);
}

/**
 * A modal confirmation; resolves true when the confirming button is pressed. <dialog> traps
 * focus and closes on Escape (which counts as "no").
 */
export function confirmDialog({ title, message, confirm, cancel = "Keep it", danger = false }) {
  return new Promise((resolve) => {
    const titleId = uid("dialog");
    const yes = h("button", { type: "button", class: danger ? "danger" : "primary" }, confirm);
    const no = h("button", { type: "button" }, cancel);
    const dialog = h(
      "dialog",
      { "aria-labelledby": titleId },
      h("h2", { id: titleId }, title),
      h("p", {}, message),
      h("div", { class: "actions" }, no, yes),
    );
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener("click", () => finish(true));
    no.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus(); // the safe choice has the focus
  });
}
