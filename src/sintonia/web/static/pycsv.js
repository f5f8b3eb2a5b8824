// CSV read the way the server reads it: Python's csv.reader with the default "excel" dialect
// over io.StringIO(text, newline=""), ported state for state from CPython's _csv.c, so rows
// split, quote, count and fail exactly as they do on the server.

const FIELD_LIMIT = 131072; // csv.field_size_limit()
const EOL = null; // what _csv.c feeds after each line's characters

export class CsvError extends Error {
  constructor(message, fieldLimit = 0) {
    super(message);
    this.fieldLimit = fieldLimit; // set when a field outgrew the limit
  }
}

/** The lines io.StringIO(text, newline="") yields: each ends after "\n", "\r\n" or "\r". */
function* lines(text) {
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      yield text.slice(start, i + 1);
      start = i + 1;
    }
  }
  if (start < text.length) yield text.slice(start);
}

/** Yields each row as an array of strings; throws CsvError where Python raises csv.Error. */
export function* reader(text) {
  const source = lines(text);
  for (;;) {
    const row = new RowParser();
    let line = source.next();
    do {
      if (line.done) {
        if (row.field.length !== 0 || row.state === "IN_QUOTED_FIELD") {
          row.save();
          yield row.fields;
        }
        return;
      }
      for (const c of line.value) row.feed(c);
      row.feed(EOL);
      if (row.state !== "START_RECORD") line = source.next();
    } while (row.state !== "START_RECORD");
    yield row.fields;
  }
}

class RowParser {
  constructor() {
    this.state = "START_RECORD";
    this.fields = [];
    this.field = [];
    this.fieldLength = 0;
  }

  save() {
    this.fields.push(this.field.join(""));
    this.field = [];
    this.fieldLength = 0;
  }

  add(c) {
    if (this.fieldLength >= FIELD_LIMIT) {
      throw new CsvError(`field larger than field limit (${FIELD_LIMIT})`, FIELD_LIMIT);
    }
    this.field.push(c);
    this.fieldLength += 1;
  }

  endOfLine(c) {
    this.save();
    this.state = c === EOL ? "START_RECORD" : "EAT_CRNL";
  }

  feed(c) {
    const lineEnd = c === "\n" || c === "\r" || c === EOL;
    switch (this.state) {
      case "START_RECORD":
        if (c === EOL) return; // an empty line: the row []
        if (c === "\n" || c === "\r") {
          this.state = "EAT_CRNL";
          return;
        }
        this.state = "START_FIELD";
      // falls through: a normal character starts a field
      case "START_FIELD":
        if (lineEnd) this.endOfLine(c);
        else if (c === '"') this.state = "IN_QUOTED_FIELD";
        else if (c === ",") this.save();
        else {
          this.add(c);
          this.state = "IN_FIELD";
        }
        return;
      case "IN_FIELD":
        if (lineEnd) this.endOfLine(c);
        else if (c === ",") {
          this.save();
          this.state = "START_FIELD";
        } else this.add(c);
        return;
      case "IN_QUOTED_FIELD":
        if (c === EOL) return;
        if (c === '"') this.state = "QUOTE_IN_QUOTED_FIELD";
        else this.add(c);
        return;
      case "QUOTE_IN_QUOTED_FIELD":
        if (c === '"') {
          this.add(c);
          this.state = "IN_QUOTED_FIELD";
        } else if (c === ",") {
          this.save();
          this.state = "START_FIELD";
        } else if (lineEnd) this.endOfLine(c);
        else {
          this.add(c); // not strict: `"ab"c` reads as abc
          this.state = "IN_FIELD";
        }
        return;
      case "EAT_CRNL":
        if (c === "\n" || c === "\r") return;
        if (c === EOL) this.state = "START_RECORD";
        else {
          throw new CsvError(
            "new-line character seen in unquoted field - do you need to open the file with newline=''?",
          );
        }
        return;
    }
  }
}
