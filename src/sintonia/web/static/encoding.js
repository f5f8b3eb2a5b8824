// Bytes to text as the server decodes an upload (src/sintonia/datasets/encoding.py): UTF-8
// only, a BOM dropped, and each line holding bytes that are not UTF-8 reported at its first
// bad byte, instead of a failure.

import { grouped, problem } from "./validate.js";

const MAX_REPORTED_LINES = 10;
const RESAVE = "re-save the file as UTF-8";

function sequenceLength(bytes, i) {
  // The length of the valid UTF-8 sequence at i, or -k: the first k bytes are the maximal
  // invalid prefix (what one replacement stands for, as Python's decoder reports it).
  const b = bytes[i];
  if (b < 0x80) return 1;
  let need, low = 0x80, high = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b === 0xe0) low = 0xa0;
    if (b === 0xed) high = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b === 0xf0) low = 0x90;
    if (b === 0xf4) high = 0x8f;
  } else return -1;
  for (let k = 1; k <= need; k++) {
    const c = bytes[i + k];
    const ok = c !== undefined && (k === 1 ? c >= low && c <= high : c >= 0x80 && c <= 0xbf);
    if (!ok) return -k;
  }
  return need + 1;
}

/** {text, problems}: text is null when the file cannot be read at all (UTF-16 or UTF-32). */
export function decodeUtf8(bytes) {
  // UTF-32's BOMs come first: the little-endian one begins with UTF-16's.
  if ((bytes[0] === 0xff && bytes[1] === 0xfe && bytes[2] === 0 && bytes[3] === 0) ||
      (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0xfe && bytes[3] === 0xff)) {
    const message = `the file is UTF-32 encoded, which is not supported; ${RESAVE}`;
    return { text: null, problems: [problem("file", null, message)] };
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff) ||
      bytes[0] === 0 || bytes[1] === 0) {
    const message = `the file is UTF-16 encoded, which is not supported; ${RESAVE}`;
    return { text: null, problems: [problem("file", null, message)] };
  }
  const skipped = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  try {
    const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    return { text: strict.decode(bytes.subarray(skipped)), problems: [] };
  } catch {
    // Some bytes are not UTF-8: find each, one problem per line, as the server does.
  }
  const pieces = [];
  const problems = [];
  let line = 1, lastBadLine = 0, unreported = 0, runStart = skipped;
  for (let i = skipped; i < bytes.length;) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      if (bytes[i] === 0x0a && bytes[i - 1] !== 0x0d) line++;
      if (bytes[i] === 0x0d) line++;
      i += length;
      continue;
    }
    pieces.push(decoder.decode(bytes.subarray(runStart, i)), "\uFFFD".repeat(-length));
    if (line !== lastBadLine) {
      lastBadLine = line;
      if (problems.length === MAX_REPORTED_LINES) unreported++;
      else {
        const hex = bytes[i].toString(16).toUpperCase().padStart(2, "0");
        const message = `the byte 0x${hex} at offset ${grouped(i)} is not valid UTF-8; ${RESAVE}`;
        problems.push(problem(`line ${line}`, null, message));
      }
    }
    i -= length;
    runStart = i;
  }
  pieces.push(decoder.decode(bytes.subarray(runStart)));
  if (unreported) {
    const message = `${unreported} more lines hold bytes that are not valid UTF-8; ${RESAVE}`;
    problems.push(problem("file", null, message));
  }
  return { text: pieces.join(""), problems };
}
