// JSON read the way the server's Python reads it (CPython's json module), so a file the
// browser accepts is one the server accepts, and a broken one gets the server's message at
// the same line and column. JSON.parse would do for valid files, but its errors are worded
// differently in every browser. Objects become Maps (file order kept, as a Python dict does;
// a plain object would move keys like "2" first), and numbers keep Python's repr for messages.

export class JsonNumber {
  constructor(repr) {
    this.repr = repr; // what Python's repr() prints for the value: "5", "0.5", "1e+20", "inf"
  }
}

export class JsonError extends Error {
  constructor(msg, pos, text) {
    super(msg);
    this.msg = msg;
    const lineStart = text.lastIndexOf("\n", pos - 1) + 1;
    this.lineno = countNewlines(text, pos) + 1;
    this.colno = codePoints(text.slice(lineStart, pos)) + 1; // Python counts code points
  }
}

class ExpectingValue {
  constructor(pos) {
    this.pos = pos; // CPython's StopIteration: reported as "Expecting value" at this index
  }
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
// Python's default recursion limit is 1000 frames; nesting near it fails there too.
const MAX_DEPTH = 900;
const MAX_INT_DIGITS = 4300; // sys.get_int_max_str_digits()

function countNewlines(text, end) {
  let count = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) count++;
  return count;
}

export function codePoints(text) {
  // UTF-16 length minus one per surrogate pair: Python's len().
  const pairs = text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g);
  return text.length - (pairs ? pairs.length : 0);
}

function skip(text, i) {
  while (i < text.length && WHITESPACE.has(text[i])) i++;
  return i;
}

/**
 * json.loads(text). Returns {value} or {error: {msg, lineno, colno}} for a syntax error, or
 * {failure} for what Python raises as another exception (too deep, too many digits).
 */
export function loads(text) {
  try {
    if (text.startsWith("\uFEFF")) {
      throw new JsonError("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0, text);
    }
    const start = skip(text, 0);
    let value, end;
    try {
      [value, end] = scanOnce(text, start, 0);
    } catch (stop) {
      if (stop instanceof ExpectingValue) throw new JsonError("Expecting value", stop.pos, text);
      throw stop;
    }
    end = skip(text, end);
    if (end !== text.length) throw new JsonError("Extra data", end, text);
    return { value };
  } catch (error) {
    if (error instanceof JsonError) return { error };
    if (error instanceof RangeError || error instanceof TooDeep) {
      return { failure: "nested too deeply" };
    }
    if (error instanceof TooManyDigits) return { failure: error.message };
    throw error;
  }
}

class TooDeep extends Error {}
class TooManyDigits extends Error {}

function scanOnce(text, i, depth) {
  if (i >= text.length) throw new ExpectingValue(i);
  const c = text[i];
  if (c === '"') return scanString(text, i + 1);
  if (c === "{") return parseObject(text, i + 1, depth + 1);
  if (c === "[") return parseArray(text, i + 1, depth + 1);
  const words = [
    ["null", null],
    ["true", true],
    ["false", false],
    ["NaN", new JsonNumber("nan")],
    ["Infinity", new JsonNumber("inf")],
    ["-Infinity", new JsonNumber("-inf")],
  ];
  for (const [word, value] of words) {
    if (text.startsWith(word, i)) return [value, i + word.length];
  }
  return matchNumber(text, i);
}

function isDigit(c) {
  return c !== undefined && c >= "0" && c <= "9";
}

function matchNumber(text, start) {
  let i = start;
  if (text[i] === "-") {
    i++;
    if (i >= text.length) throw new ExpectingValue(start);
  }
  if (text[i] >= "1" && text[i] <= "9") {
    i++;
    while (isDigit(text[i])) i++;
  } else if (text[i] === "0") {
    i++;
  } else {
    throw new ExpectingValue(start);
  }
  let isFloat = false;
  if (text[i] === "." && isDigit(text[i + 1])) {
    isFloat = true;
    i += 2;
    while (isDigit(text[i])) i++;
  }
  if (text[i] === "e" || text[i] === "E") {
    const eStart = i;
    i++;
    if (text[i] === "-" || text[i] === "+") i++;
    while (isDigit(text[i])) i++;
    if (isDigit(text[i - 1])) isFloat = true;
    else i = eStart;
  }
  const raw = text.slice(start, i);
  if (isFloat) return [new JsonNumber(floatRepr(Number(raw))), i];
  const digits = raw.replace("-", "").length;
  if (digits > MAX_INT_DIGITS) {
    throw new TooManyDigits(
      `Exceeds the limit (${MAX_INT_DIGITS} digits) for integer string conversion: value has ` +
        `${digits} digits; use sys.set_int_max_str_digits() to increase the limit`,
    );
  }
  return [new JsonNumber(BigInt(raw).toString()), i];
}

/** Python's repr() of a float: shortest digits, exponent form below 1e-4 and from 1e16. */
export function floatRepr(x) {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, exp] = x.toExponential().split("e");
  const exponent = Number(exp);
  if (exponent >= -4 && exponent < 16) {
    const digits = mantissa.replace("-", "").replace(".", "");
    const sign = x < 0 ? "-" : "";
    if (exponent < 0) return sign + "0." + "0".repeat(-exponent - 1) + digits;
    if (digits.length > exponent + 1) {
      return sign + digits.slice(0, exponent + 1) + "." + digits.slice(exponent + 1);
    }
    return sign + digits + "0".repeat(exponent + 1 - digits.length) + ".0";
  }
  const sign = exponent < 0 ? "-" : "+";
  const size = String(Math.abs(exponent)).padStart(2, "0");
  return `${mantissa}e${sign}${size}`;
}

function scanString(text, end) {
  const begin = end - 1;
  const chunks = [];
  for (;;) {
    let next = end;
    let c = "";
    for (; next < text.length; next++) {
      c = text[next];
      if (c === '"' || c === "\\") break;
      if (c.charCodeAt(0) <= 0x1f) throw new JsonError("Invalid control character at", next, text);
    }
    if (next >= text.length) throw new JsonError("Unterminated string starting at", begin, text);
    chunks.push(text.slice(end, next));
    next++;
    if (c === '"') return [chunks.join(""), next];
    if (next === text.length) throw new JsonError("Unterminated string starting at", begin, text);
    c = text[next];
    if (c !== "u") {
      end = next + 1;
      if (!(c in ESCAPES)) throw new JsonError("Invalid \\escape", end - 2, text);
      chunks.push(ESCAPES[c]);
      continue;
    }
    next++;
    end = next + 4;
    if (end >= text.length) throw new JsonError("Invalid \\uXXXX escape", next - 1, text);
    let code = hex4(text, next, end);
    // A high surrogate followed by an escaped low one is one character, as in Python.
    if (code >= 0xd800 && code <= 0xdbff && end + 6 < text.length) {
      if (text[end] === "\\" && text[end + 1] === "u") {
        const low = hex4(text, end + 2, end + 6);
        if (low >= 0xdc00 && low <= 0xdfff) {
          chunks.push(String.fromCharCode(code, low));
          end += 6;
          continue;
        }
      }
    }
    chunks.push(String.fromCharCode(code));
  }
}

function hex4(text, from, end) {
  const digits = text.slice(from, end);
  if (!/^[0-9a-fA-F]{4}$/.test(digits)) throw new JsonError("Invalid \\uXXXX escape", end - 5, text);
  return parseInt(digits, 16);
}

function parseObject(text, i, depth) {
  if (depth > MAX_DEPTH) throw new TooDeep();
  const result = new Map();
  i = skip(text, i);
  if (text[i] !== "}") {
    for (;;) {
      if (text[i] !== '"') {
        throw new JsonError("Expecting property name enclosed in double quotes", i, text);
      }
      let key;
      [key, i] = scanString(text, i + 1);
      i = skip(text, i);
      if (text[i] !== ":") throw new JsonError("Expecting ':' delimiter", i, text);
      i = skip(text, i + 1);
      let value;
      [value, i] = scanOnce(text, i, depth);
      result.set(key, value);
      i = skip(text, i);
      if (text[i] === "}") break;
      if (text[i] !== ",") throw new JsonError("Expecting ',' delimiter", i, text);
      i = skip(text, i + 1);
    }
  }
  return [result, i + 1];
}

function parseArray(text, i, depth) {
  if (depth > MAX_DEPTH) throw new TooDeep();
  const result = [];
  i = skip(text, i);
  if (text[i] !== "]") {
    for (;;) {
      let value;
      [value, i] = scanOnce(text, i, depth);
      result.push(value);
      i = skip(text, i);
      if (text[i] === "]") break;
      if (text[i] !== ",") throw new JsonError("Expecting ',' delimiter", i, text);
      i = skip(text, i + 1);
    }
  }
  return [result, i + 1];
}

// The server tolerates trailing commas in .json files (the official curl examples have
// them): each comma before a `]` or `}`, outside strings, becomes a space.
const STRING_REST = /[^"\\]*(?:\\[\s\S][^"\\]*)*"/y;
const CLOSER_AHEAD = /[ \t\r\n]*[\]}]/y;

export function stripTrailingCommas(text) {
  const pieces = [];
  let keptFrom = 0;
  let position = 0;
  const quoteOrComma = /[",]/g;
  for (;;) {
    quoteOrComma.lastIndex = position;
    const found = quoteOrComma.exec(text);
    if (found === null) break;
    const at = found.index;
    if (text[at] === '"') {
      STRING_REST.lastIndex = at + 1;
      if (!STRING_REST.test(text)) break; // unterminated: the parser will say so
      position = STRING_REST.lastIndex;
      continue;
    }
    CLOSER_AHEAD.lastIndex = at + 1;
    if (CLOSER_AHEAD.test(text) && followsValue(text, at)) {
      pieces.push(text.slice(keptFrom, at), " ");
      keptFrom = at + 1;
    }
    position = at + 1;
  }
  pieces.push(text.slice(keptFrom));
  return pieces.join("");
}

function followsValue(text, comma) {
  let before = comma - 1;
  while (before >= 0 && " \t\r\n".includes(text[before])) before--;
  return before >= 0 && !"[{,:".includes(text[before]);
}
