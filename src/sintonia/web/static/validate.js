// Checks on raw records with the server's rules and words (src/sintonia/datasets/validate.py):
// every problem of a record, and the example count.

import { codePoints, floatRepr, JsonNumber } from "./pyjson.js";
import { closeMatch } from "./similar.js";

export const LIMITS = {
  minExamples: 20,
  maxInputChars: 40_000,
  maxOutputChars: 5_000,
  maxFileBytes: 4 * 1024 * 1024,
};

const ALIASES = { text_input: "textInput" };
const INPUT_NEAR_MISSES = new Set(
  ["text_input", "textinput", "input", "inputs", "input_text", "text", "prompt", "question"],
);
const OUTPUT_NEAR_MISSES = new Set(
  ["output", "outputs", "output_text", "completion", "response", "target", "answer", "label"],
);
const MAX_LISTED = 10;
const MAX_GUESSED = 50;
const MAX_KEY_CHARS = 60;
// Python's str.isspace() characters: what strip() removes.
const PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
export const BLANK = new RegExp(`^[${PY_SPACE}]*$`);

export function problem(location, field, message) {
  return { location, field, message };
}

/** 1234 -> "1,234", as Python's f"{n:,}" */
export function grouped(n) {
  return n.toLocaleString("en-US");
}

export function resolveKey(keys, key) {
  if (keys.includes(key)) return key;
  const alias = ALIASES[key];
  return alias !== undefined && keys.includes(alias) ? alias : null;
}

export function describeType(value) {
  if (value === null) return "null";
  if (typeof value === "boolean") return `a boolean (${value})`;
  if (value instanceof JsonNumber) return `a number (${value.repr})`;
  if (typeof value === "number") return `a number (${floatRepr(value)})`;
  if (typeof value === "string") return "a string";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Map) return "an object";
  return `a ${typeof value}`;
}

function normal(key) {
  return key.trim().toLowerCase().replace(/[- ]/g, "_");
}

function suggestKey(wanted, present, isInput) {
  const synonyms = isInput ? INPUT_NEAR_MISSES : OUTPUT_NEAR_MISSES;
  const candidates = present.slice(0, MAX_GUESSED).filter((k) => typeof k === "string");
  for (const key of candidates) {
    if (normal(key) === normal(wanted) || synonyms.has(normal(key))) return key;
  }
  return closeMatch(wanted, candidates, 0.8);
}

export function missingKeyMessage(key, present, isInput, taken, csv = false) {
  const [noun, holder] = csv ? ["column", "header"] : ["key", "record"];
  const has = present.length ? `${noun}s ${listKeys(present)}` : `no ${noun}s`;
  let message = `missing ${noun} '${key}'; the ${holder} has ${has}`;
  const suggestion = suggestKey(key, present.filter((k) => !taken.includes(k)), isInput);
  if (suggestion !== null) message += `; did you mean ${quoted(suggestion)}? Rename it to '${key}'`;
  return message;
}

export function listKeys(keys) {
  const listed = keys.slice(0, MAX_LISTED).map(quoted).join(", ") || "none";
  return keys.length > MAX_LISTED ? `${listed} and ${keys.length - MAX_LISTED} more` : listed;
}

function quoted(key) {
  // Keys come from the user's file; keep a pathological one from flooding the message.
  const chars = [...String(key)];
  return chars.length <= MAX_KEY_CHARS ? `'${chars.join("")}'` : `'${chars.slice(0, MAX_KEY_CHARS).join("")}…'`;
}

export function checkRecord(record, inputKey, outputKey) {
  const value = record.value;
  if (!(value instanceof Map)) {
    const message = `expected an object with keys '${inputKey}' and '${outputKey}'`;
    return [problem(record.location, null, `${message}, found ${describeType(value)}`)];
  }
  const keys = [...value.keys()];
  const taken = [resolveKey(keys, inputKey), resolveKey(keys, outputKey)].filter((k) => k);
  const problems = [];
  for (const [key, limit, isInput] of [
    [inputKey, LIMITS.maxInputChars, true],
    [outputKey, LIMITS.maxOutputChars, false],
  ]) {
    const used = resolveKey(keys, key);
    if (used === null) {
      problems.push(problem(record.location, key, missingKeyMessage(key, keys, isInput, taken)));
    } else {
      problems.push(...checkText(record.location, used, value.get(used), limit));
    }
  }
  return problems;
}

function checkText(location, key, value, limit) {
  if (typeof value !== "string") {
    return [problem(location, key, `must be a string, found ${describeType(value)}`)];
  }
  if (BLANK.test(value)) {
    return [problem(location, key, value ? "contains only whitespace" : "is empty")];
  }
  const length = codePoints(value);
  if (length > limit) {
    return [problem(location, key, `is ${grouped(length)} characters long; the limit is ${grouped(limit)}`)];
  }
  // JSON can spell half of a UTF-16 pair alone ("\ud800"): not text, and UTF-8 cannot store it.
  const half = LONE_SURROGATE.exec(value);
  if (half) {
    const code = half[0].charCodeAt(0).toString(16).toUpperCase();
    const at = grouped(codePoints(value.slice(0, half.index)));
    return [problem(location, key, `holds U+${code} at character ${at}, half of a UTF-16 ` +
      "surrogate pair on its own, which is not text; write the character itself")];
  }
  return [];
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function checkCount(count, location) {
  if (count >= LIMITS.minExamples) return [];
  const noun = count === 1 ? "example" : "examples";
  const message = `has ${count} ${noun}; at least ${LIMITS.minExamples} are required (100–500 are recommended)`;
  return [problem(location, null, message)];
}
