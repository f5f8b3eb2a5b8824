// The page's only way to the server: the public /v1beta API, with the signed-in key.
// Errors become ApiError, whose message is the API's own error.message in words.

const KEY = "sintonia.apiKey";
const BASE = "/v1beta/";

/** The key of this browser tab's session: a string ("" on a --no-auth server), or null. */
export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function signIn(key) {
  sessionStorage.setItem(KEY, key);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(message, status = 0, violations = [], reason = "") {
    super(message);
    this.status = status;
    /** google.rpc.BadRequest fieldViolations: [{field, description}] */
    this.violations = violations;
    this.reason = reason;
  }
}

function headers(key, json) {
  const result = {};
  if (json) result["content-type"] = "application/json";
  if (key) result["x-goog-api-key"] = key;
  return result;
}

async function send(method, path, body, { signal, key = apiKey() } = {}) {
  try {
    return await fetch(BASE + path, {
      method,
      headers: headers(key, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(
      `Could not reach the Sintonia server (${error.message}). Is \`sintonia serve\` still running?`,
    );
  }
}

/** The error a failed response stands for; a bad key also signs the page out. */
async function failure(response) {
  const text = await response.text();
  let error = null;
  try {
    error = JSON.parse(text).error || null;
  } catch {
    // not JSON: a proxy's page, say; say what happened in words below
  }
  const details = (error && error.details) || [];
  const violations = details.flatMap((d) => d.fieldViolations || []);
  const reason = (details.find((d) => d.reason) || {}).reason || "";
  const message = (error && error.message) ||
    `The server answered ${response.status} ${response.statusText || ""}`.trim() + ".";
  if (reason === "API_KEY_INVALID" && apiKey() !== null) {
    signOut();
    window.dispatchEvent(new CustomEvent("sintonia:signed-out", { detail: message }));
  }
  return new ApiError(message, response.status, violations, reason);
}

/** One API call; resolves to the parsed JSON body, or rejects with an ApiError. */
export async function call(method, path, body, options) {
  const response = await send(method, path, body, options);
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  return text ? JSON.parse(text) : {};
}

export const get = (path, options) => call("GET", path, undefined, options);

/** Every item of a paged list (`field` names the list in each page). */
export async function listAll(path, field, options) {
  const items = [];
  let token = "";
  for (let page = 0; page < 50; page++) {
    const sep = path.includes("?") ? "&" : "?";
    const query = `${sep}pageSize=100${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`;
    const body = await get(path + query, options);
    items.push(...(body[field] || []));
    token = body.nextPageToken;
    if (!token) break;
  }
  return items;
}

/**
 * streamGenerateContent with alt=sse: calls onText(piece) for each piece of text as it
 * arrives; resolves to {finishReason, usage} from the last event.
 */
export async function streamGenerate(model, request, onText, { signal } = {}) {
  const response = await send("POST", `${model}:streamGenerateContent?alt=sse`, request, { signal });
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let last = {};
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) !== -1) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      const data = event.split(/\r?\n/).filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart()).join("\n");
      if (!data) continue;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new ApiError(chunk.error.message, chunk.error.code || 0);
      const candidate = (chunk.candidates || [])[0];
      const text = ((candidate && candidate.content && candidate.content.parts) || [])
        .map((p) => p.text || "").join("");
      if (text) onText(text);
      last = { finishReason: candidate && candidate.finishReason, usage: chunk.usageMetadata };
    }
  }
  return last;
}

/** "tunedModels/abc" -> "abc" */
export function bareId(name) {
  return name.replace(/^tunedModels\//, "");
}
