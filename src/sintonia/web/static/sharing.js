// Sharing a tuned model: its permissions, add a reader or writer by email, let everyone read.

import { call, listAll } from "./api.js";
import { field, h, notice, replace } from "./dom.js";

const ROLE_WORDS = { OWNER: "Owner", WRITER: "Writer", READER: "Reader" };

/** The sharing section of model `id`: {element}; it loads itself. */
export function sharingSection(id, options) {
  const list = h("ul", { class: "people" });
  const everyone = h("div", { class: "actions" });
  const message = h("div");
  const email = h("input", { type: "email", required: true, autocomplete: "off", placeholder: "name@example.com" });
  const role = h("select", {},
    h("option", { value: "READER" }, "Reader: may use the model"),
    h("option", { value: "WRITER" }, "Writer: may also edit and share it"));
  const form = h("form", { class: "row share", novalidate: true, onsubmit: add },
    h("div", { class: "grow" }, field("Email address", email)),
    field("Role", role),
    h("div", { class: "field end" }, h("button", { type: "submit" }, "Share")));
  const element = h("section", { "aria-labelledby": "sharing-title" },
    h("h2", { id: "sharing-title" }, "Sharing"),
    h("p", { class: "hint" }, "People you share with sign in with their own API key; the model then appears in their library."),
    list, everyone, form, message);

  async function load() {
    try {
      draw(await listAll(`tunedModels/${id}/permissions`, "permissions", options));
    } catch (error) {
      if (error.name !== "AbortError") replace(message, notice("error", `Could not load the sharing: ${error.message}`));
    }
  }

  function draw(permissions) {
    replace(list, permissions.map((p) => {
      const who = p.granteeType === "EVERYONE" ? "Everyone" : p.emailAddress;
      const removeButton = p.role === "OWNER" ? null : h("button", {
        type: "button", class: "small", "aria-label": `Stop sharing with ${who}`, onclick: () => remove(p, who),
      }, "Remove");
      return h("li", {}, h("span", { class: "who" }, who), h("span", { class: "role" }, ROLE_WORDS[p.role] || p.role), removeButton);
    }));
    const shared = permissions.find((p) => p.granteeType === "EVERYONE");
    replace(everyone, shared
      ? h("button", { type: "button", onclick: () => remove(shared, "everyone") }, "Stop letting everyone read it")
      : h("button", { type: "button", onclick: () => grant({ granteeType: "EVERYONE", role: "READER" }, "Everyone can now read this model.") },
        "Let everyone read it"));
  }

  async function add(event) {
    event.preventDefault();
    if (!email.checkValidity()) {
      email.focus();
      replace(message, notice("error", `Email address: ${email.validationMessage}`));
      return;
    }
    const body = { granteeType: "USER", emailAddress: email.value.trim(), role: role.value };
    if (await grant(body, `Shared with ${body.emailAddress} as ${ROLE_WORDS[body.role].toLowerCase()}.`)) email.value = "";
  }

  async function grant(body, done) {
    try {
      await call("POST", `tunedModels/${id}/permissions`, body, options);
      replace(message, notice("ok", done));
      await load();
      return true;
    } catch (error) {
      if (error.name !== "AbortError") replace(message, notice("error", `Could not share: ${error.message}`));
      return false;
    }
  }

  async function remove(permission, who) {
    try {
      await call("DELETE", permission.name, undefined, options);
      replace(message, notice("ok", `Stopped sharing with ${who}.`));
      await load();
    } catch (error) {
      if (error.name !== "AbortError") replace(message, notice("error", `Could not stop sharing: ${error.message}`));
    }
  }

  load();
  return { element };
}
