// A dataset checked in the browser with the server's rules and words (src/sintonia/datasets:
// parse.py, validate.py, encoding.py), so every problem is shown, with its row and field,
// before anything is sent. The server checks again on submit; tests/web compare the two.

import { decodeUtf8 } from "./encoding.js";
import { loads, stripTrailingCommas } from "./pyjson.js";
import { CsvError, reader } from "./pycsv.js";
import {
  BLANK, checkCount, checkRecord, describeType, grouped, LIMITS, listKeys, missingKeyMessage,
  problem, resolveKey,
} from "./validate.js";

export { LIMITS };

export const SUFFIXES = { ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv" };

const MAX_PROBLEMS = 1000;
const PREVIEW_LIMIT = 50;

/**
 * The problems a file has before its contents are read: its suffix, then its size (so a
 * huge file is refused without reading it). Empty when it may be read.
 */
export function checkFile(fileName, size) {
  const suffix = pathSuffix(fileName);
  if (SUFFIXES[suffix.toLowerCase()] === undefined) {
    const found = suffix ? `'${suffix}'` : "no suffix";
    const supported = Object.keys(SUFFIXES).join(", ");
    return [problem("file", null, `unsupported file type (${found}); supported suffixes are ${supported}`)];
  }
  return size > LIMITS.maxFileBytes ? [tooBig(size)] : [];
}

/** A result holding only the problems found before reading (see checkFile). */
export function failed(source, problems) {
  return { examples: [], records: [], count: 0, problems, source, format: null };
}

/**
 * Read a chosen file as the server's read_dataset would: suffix, then size, then contents.
 * Returns {examples: [{textInput, output, location}], problems: [{location, field, message}],
 * source, format}; problems is empty when the dataset is good.
 */
export function readDataset(bytes, fileName, keys = {}) {
  const early = checkFile(fileName, bytes.length);
  if (early.length) return failed(fileName, early);
  return parseDataset(bytes, SUFFIXES[pathSuffix(fileName).toLowerCase()], fileName, keys);
}

/** parse_dataset: bytes in a known format ("jsonl", "json" or "csv"). */
export function parseDataset(bytes, format, source, keys = {}) {
  const inputKey = keys.inputKey || "text_input";
  const outputKey = keys.outputKey || "output";
  if (bytes.length > LIMITS.maxFileBytes) return failed(source, [tooBig(bytes.length)]);
  const { text, problems } = decodeUtf8(bytes);
  const parsers = { jsonl: jsonlRecords, json: jsonRecords, csv: csvRecords };
  const items = text === null
    ? [...problems, INCOMPLETE]
    : chain(problems, parsers[format](text, inputKey, outputKey));
  return build(items, source, format, inputKey, outputKey);
}

function* chain(...iterables) {
  for (const iterable of iterables) yield* iterable;
}

export function problemText(p) {
  const where = p.field ? `${p.location}, field '${p.field}'` : p.location;
  return `${where}: ${p.message}`;
}

function pathSuffix(name) {
  const base = name.split(/[\\/]/).pop();
  const dot = base.lastIndexOf(".");
  return dot > 0 && dot < base.length - 1 ? base.slice(dot) : "";
}

function tooBig(size) {
  const exact = size >= 1024 ? ` (${grouped(size)} bytes)` : "";
  const limit = humanSize(LIMITS.maxFileBytes);
  return problem("file", null, `the file is ${humanSize(size)}${exact}; the limit is ${limit}`);
}

function humanSize(size) {
  for (const [unit, scale] of [["MB", 1024 * 1024], ["KB", 1024]]) {
    if (size >= scale) return `${oneDecimal(size / scale).replace(/\.0$/, "")} ${unit}`;
  }
  return `${grouped(size)} bytes`;
}

function oneDecimal(x) {
  // Python's "{:.1f}" rounds a tie to even; toFixed rounds it up.
  const scaled = x * 10;
  let n = Math.round(scaled);
  if (scaled - Math.floor(scaled) === 0.5 && n % 2 === 1) n -= 1;
  return (n / 10).toFixed(1);
}

// --- Formats (parse.py) -----------------------------------------------------------------------

function loadJson(text, location) {
  const result = loads(text);
  if (result.error) {
    const { msg, lineno, colno } = result.error;
    return { problem: problem(location || `line ${lineno}`, null, `invalid JSON: ${msg} (column ${colno})`) };
  }
  if (result.failure) return { problem: problem(location || "file", null, `invalid JSON: ${result.failure}`) };
  return { value: result.value };
}

// A parser yields, in reading order, records ({location, value}), problems ({location, field,
// message}) and INCOMPLETE when the file's shape was wrong or reading stopped early (the
// example count is then not checked: "has 0 examples" would only mislead).
const INCOMPLETE = Symbol("incomplete");
const record = (location, value) => ({ location, value, isRecord: true });

function* lineStrings(text) {
  const lineBreak = /\r\n|\r|\n/g;
  let start = 0;
  for (let found; (found = lineBreak.exec(text)) !== null;) {
    yield text.slice(start, found.index);
    start = lineBreak.lastIndex;
  }
  yield text.slice(start);
}

function* jsonlRecords(text) {
  let number = 0;
  for (const line of lineStrings(text)) {
    number++;
    if (BLANK.test(line)) continue;
    const location = `line ${number}`;
    const { value, problem: bad } = loadJson(line, location);
    yield bad || record(location, value); // and go on: the other lines may have problems too
  }
}

function* jsonRecords(text, inputKey, outputKey) {
  text = text.replace(/\r\n/g, "\n").replace(/\r/g, "\n");
  const { value, problem: bad } = loadJson(stripTrailingCommas(text), null);
  if (bad) {
    yield* [bad, INCOMPLETE];
  } else if (Array.isArray(value)) {
    yield* indexed(value);
  } else if (value instanceof Map && value.has("examples")) {
    let inner = value.get("examples");
    // The Gemini wire shape nests the list once more: {"examples": {"examples": [...]}}.
    if (inner instanceof Map && Array.isArray(inner.get("examples"))) inner = inner.get("examples");
    if (Array.isArray(inner)) yield* indexed(inner);
    else {
      const shape = 'a list of examples or {"examples": [...]}';
      yield* [problem("file", "examples", `must be ${shape}, found ${describeType(inner)}`), INCOMPLETE];
    }
  } else {
    yield* columnRecords(value, inputKey, outputKey, "file", 'a list of examples, {"examples": [...]}');
  }
}

function* indexed(values) {
  let i = 0;
  for (const value of values) yield record(`example ${i++}`, value);
}

function* columnRecords(value, inputKey, outputKey, location, otherShapes) {
  const inName = value instanceof Map ? resolveKey([...value.keys()], inputKey) : null;
  if (!(value instanceof Map) || inName === null || !value.has(outputKey)) {
    const columns = `{"${inputKey}": [...], "${outputKey}": [...]}`;
    let found = describeType(value);
    if (value instanceof Map) found += ` with keys ${listKeys([...value.keys()])}`;
    yield* [problem(location, null, `expected ${otherShapes}, or columns ${columns}; found ${found}`), INCOMPLETE];
    return;
  }
  const columns = new Map([[inName, value.get(inName)], [outputKey, value.get(outputKey)]]);
  const problems = [...columns]
    .filter(([, column]) => !Array.isArray(column))
    .map(([name, column]) => problem(location, name, `must be a list of values, found ${describeType(column)}`));
  if (problems.length) {
    yield* [...problems, INCOMPLETE];
    return;
  }
  const inputs = columns.get(inName);
  const outputs = columns.get(outputKey);
  if (inputs.length !== outputs.length) {
    yield problem(location, null, `columns have different lengths: '${inName}' has ${inputs.length} ` +
      `values, '${outputKey}' has ${outputs.length}`);
  }
  // Unequal lengths were reported above; still check the pairs there are.
  const pairs = inputs.slice(0, outputs.length).map((input, i) => new Map([[inName, input], [outputKey, outputs[i]]]));
  yield* indexed(pairs);
}

function* csvRecords(text, inputKey, outputKey) {
  let header = null;
  let number = 0; // rows as a spreadsheet numbers them: the header is row 1
  try {
    for (const cells of reader(text)) {
      number++;
      if (!cells.some((cell) => cell)) continue; // a blank line, or a row of empty cells
      if (header === null) {
        header = cells;
        const missing = missingColumns(header, `row ${number}`, inputKey, outputKey);
        if (missing.length) {
          yield* [...missing, INCOMPLETE];
          return;
        }
      } else if (cells.length !== header.length) {
        const cell = cells.length === 1 ? "cell" : "cells";
        yield problem(`row ${number}`, null, `has ${cells.length} ${cell} but the header has ${header.length} columns`);
      } else {
        const value = new Map();
        header.forEach((column, i) => value.set(column, cells[i]));
        yield record(`row ${number}`, value);
      }
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    // The reader cannot resynchronise after this; the rows read so far are checked, not the count.
    yield* [problem(`row ${number + 1}`, null, csvErrorMessage(error)), INCOMPLETE];
    return;
  }
  if (header === null) {
    const columns = `'${inputKey}' and '${outputKey}'`;
    yield* [problem("file", null, `the file is empty; expected a header row ${columns}`), INCOMPLETE];
  }
}

function csvErrorMessage(error) {
  if (error.fieldLimit) { // the reader's own cap, far above the example limits
    return `a cell is longer than ${grouped(error.fieldLimit)} characters (an input may have ` +
      `${grouped(LIMITS.maxInputChars)}); the rows after it were not read`;
  }
  return `invalid CSV: ${error.message}; the rows after it were not read`;
}

function missingColumns(header, location, inputKey, outputKey) {
  const taken = [resolveKey(header, inputKey), resolveKey(header, outputKey)].filter((k) => k);
  return [[inputKey, true], [outputKey, false]]
    .filter(([key]) => resolveKey(header, key) === null)
    .map(([key, isInput]) =>
      problem(location, key, missingKeyMessage(key, header, isInput, taken, true)));
}

function readingOrder(p) {
  const number = p.location.split(" ")[1];
  return number !== undefined && /^\d+$/.test(number) ? [0, Number(number)] : [1, 0];
}

function build(items, source, format, inputKey, outputKey) {
  let problems = [];
  const examples = [];
  const records = []; // kept for the preview
  let count = 0, complete = true, stoppedAt = null;
  for (const item of items) {
    if (item === INCOMPLETE) complete = false;
    else if (!item.isRecord) problems.push(item);
    else {
      count++;
      if (records.length < PREVIEW_LIMIT) records.push(item);
      problems.push(...checkRecord(item, inputKey, outputKey));
      if (!problems.length) {
        const value = item.value;
        examples.push({
          textInput: value.get(resolveKey([...value.keys()], inputKey)),
          output: value.get(outputKey),
          location: item.location,
        });
      }
    }
    // Checking stops past this many: the first ones need fixing, and a hostile file of a
    // million bad records would otherwise cost seconds.
    if (problems.length > MAX_PROBLEMS) {
      stoppedAt = item === INCOMPLETE ? "file" : item.location;
      break;
    }
  }
  if (complete && stoppedAt === null) problems.push(...checkCount(count, "file"));
  problems.sort((a, b) => {
    const [x, y] = [readingOrder(a), readingOrder(b)];
    return x[0] - y[0] || x[1] - y[1];
  });
  if (stoppedAt !== null) {
    const message = `checking stopped at ${stoppedAt}, past ${grouped(MAX_PROBLEMS)} problems; fix the ones above first`;
    problems = [...problems.slice(0, MAX_PROBLEMS), problem("file", null, message)];
  }
  const good = !problems.length && complete;
  return { examples: good ? examples : [], records, count, problems, source, format };
}

/**
 * A preview row for any record: its location and its two fields as text, when it has them.
 */
export function previewRow(record, keys = {}) {
  const inputKey = keys.inputKey || "text_input";
  const outputKey = keys.outputKey || "output";
  const value = record.value;
  if (!(value instanceof Map)) return { location: record.location, textInput: "", output: "" };
  const show = (v) => (typeof v === "string" ? v : v === undefined ? "" : describeType(v));
  const inName = resolveKey([...value.keys()], inputKey);
  return {
    location: record.location,
    textInput: show(inName === null ? undefined : value.get(inName)),
    output: show(value.get(outputKey)),
  };
}

/** Guess the format of pasted text: a whole JSON value, JSON lines, or CSV. */
export function guessFormat(text) {
  const start = text.trimStart();
  if (start.startsWith("[")) return "json";
  if (start.startsWith("{")) {
    const firstLine = start.split(/\r\n|\r|\n/, 1)[0];
    return loads(firstLine).value instanceof Map ? "jsonl" : "json";
  }
  return "csv";
}
