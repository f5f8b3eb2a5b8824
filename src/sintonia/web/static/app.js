// The page: sign-in, and hash routes to the views.
//   #/library  #/new  #/models/{id}  #/playground?model=tunedModels/{id}

import { apiKey, call, signIn, signOut } from "./api.js";
import { showCreate } from "./create.js";
import { field, h, notice, replace } from "./dom.js";
import { showLibrary } from "./library.js";
import { showModel } from "./model.js";
import { showPlayground } from "./playground.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const signOutButton = document.getElementById("sign-out");
let current = null; // the shown view: {dispose}
let flash = null; // a message for the next view (such as "Deleted X.")
let signInMessage = null;
let firstView = true; // the page just loaded: leave the focus where the browser put it

const ROUTES = {
  library: (ctx) => showLibrary(main, ctx),
  new: (ctx) => showCreate(main, ctx),
  models: (ctx) => showModel(main, ctx),
  playground: (ctx) => showPlayground(main, ctx),
};
const TITLES = { library: "My Library", new: "New tuned model", models: "Tuned model", playground: "Playground" };

function route() {
  const hash = location.hash;
  if (hash && !hash.startsWith("#/")) return; // an in-page link, such as "skip to content"
  const [path, query = ""] = (hash.slice(2) || "library").split("?");
  const [name, ...rest] = path.split("/");
  return { name: ROUTES[name] ? name : "library", id: decodeURIComponent(rest.join("/")), params: new URLSearchParams(query) };
}

function render() {
  const target = route();
  if (!target) return;
  if (current) current.dispose();
  current = null;
  const signedIn = apiKey() !== null;
  nav.hidden = !signedIn;
  signOutButton.hidden = !signedIn || apiKey() === "";
  if (!signedIn) {
    showSignIn();
    return;
  }
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === `#/${target.name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${TITLES[target.name]} — Sintonia`;
  const ctx = { ...target, flash, setFlash: (text) => { flash = text; } };
  flash = null;
  current = ROUTES[target.name](ctx);
  // Move focus to the new view's heading, so keyboard and screen-reader users start there.
  const heading = main.querySelector("h1");
  if (heading && !firstView) heading.focus({ preventScroll: true });
  firstView = false;
  window.scrollTo(0, 0);
}

function showSignIn() {
  document.title = "Sign in — Sintonia";
  firstView = false; // the key field takes the focus; the view after it takes it to its heading
  const key = h("input", { type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const message = h("div");
  if (signInMessage) replace(message, notice("error", signInMessage));
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", { class: "sign-in", novalidate: true, onsubmit: submit },
    h("h1", { tabindex: "-1" }, "Sign in to Sintonia"),
    h("p", {}, "Sintonia tunes language models on your own examples. Sign in with an API key of this server."),
    field("API key", key, "It stays in this browser tab only, and is sent to this server alone."),
    message,
    h("div", { class: "actions" }, button),
    h("details", {}, h("summary", {}, "No key yet?"),
      h("p", {}, "Whoever runs the server creates one on that machine:"),
      h("pre", {}, "sintonia keys create --name you --email you@example.com"),
      h("p", {}, "It prints the key once; paste it above.")));
  replace(main, form);
  key.focus();

  async function submit(event) {
    event.preventDefault();
    const value = key.value.trim();
    if (!value) {
      replace(message, notice("error", "Paste your API key first."));
      key.focus();
      return;
    }
    button.disabled = true;
    try {
      await call("GET", "models?pageSize=1", undefined, { key: value }); // any scope may list base models
      signIn(value);
      signInMessage = null;
      if (!location.hash.startsWith("#/")) location.hash = "#/library";
      render();
    } catch (error) {
      replace(message, notice("error", error.message));
      key.select();
    } finally {
      button.disabled = false;
    }
  }
}

async function start() {
  if (apiKey() === null) {
    // A server started with --no-auth needs no key: every caller is its local user.
    try {
      await call("GET", "models?pageSize=1", undefined, { key: "" });
      signIn("");
    } catch {
      // keys are needed: the sign-in form asks for one
    }
  }
  render();
}

signOutButton.addEventListener("click", () => {
  signOut();
  signInMessage = null;
  // Whoever signs in next starts from their own library, not the last person's page.
  history.replaceState(null, "", "#/library");
  render();
});
window.addEventListener("hashchange", render);
window.addEventListener("sintonia:signed-out", (event) => {
  signInMessage = `Signed out: ${event.detail}`;
  render();
});
start();
