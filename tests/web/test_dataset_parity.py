"""The browser's dataset checks (static/dataset.js) against the server's (sintonia.datasets):
the same files must give the same problems, word for word, and the same examples."""

from __future__ import annotations

import base64
import codecs
import json
from pathlib import Path

import pytest

from sintonia.datasets import read_dataset
from sintonia.errors import DatasetInvalid
from webui import DESKTOP


def _csv(rows: list[str], header: str = "text_input,output") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _good_rows(count: int = 24) -> list[str]:
    return [f"say w{i},ok" for i in range(count)]


def _jsonl(records: list[object]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()


GOOD = [{"text_input": f"say w{i}", "output": "ok"} for i in range(24)]

CASES: dict[str, tuple[str, bytes]] = {
    "good csv": ("good.csv", _csv(_good_rows())),
    "csv empty, blank and long fields": (
        "bad.csv",
        _csv(
            [
                "say a,",
                '"   ",ok',
                f"{'x' * 40_001},ok",
                f"say b,{'😀' * 5_001}",
                f"say c,{'😀' * 4_999}",
            ]
        ),
    ),
    "csv near-miss columns": ("near.csv", _csv(_good_rows(3), header="input,output")),
    "csv synonyms": ("syn.csv", _csv(_good_rows(3), header="Prompt,completion")),
    "csv typo": ("typo.csv", _csv(_good_rows(3), header="text_inpt,outptu")),
    "csv row shapes": (
        "shapes.csv",
        b'\xef\xbb\xbftext_input,output,note\r\n"multi\r\nline",ok,x\r\n\r\n,,\r\n'
        b'a,b\r\n"say ""hi""",ok,n\r\n"a"b,c,d\r\nsolo\r\n' + _csv(_good_rows(20), header="")[1:],
    ),
    "csv field over the csv module's limit": (
        "huge.csv",
        _csv([*_good_rows(3), f'"{"y" * 131_073}",ok', "say z,ok"]),
    ),
    "csv empty": ("empty.csv", b"\n\n"),
    "csv unterminated quote": ("open.csv", _csv([*_good_rows(21), '"never closed,ok'])),
    "jsonl mixed": (
        "mixed.jsonl",
        b"\n".join(
            [
                json.dumps({"textInput": "camel", "output": "ok"}).encode(),
                b'{"text_input": "a" "output": "b"}',
                b"[1, 2]",
                b'{"text_input": 5, "output": 5.0}',
                b'{"text_input": 1e20, "output": true}',
                b'{"text_input": null, "output": -0.00001}',
                b"",
                b"   ",
                json.dumps({f"k{i}": "v" for i in range(12)}).encode(),
                b'{"text_input": "x", "output": "y",}',
                b'{"text_input": "x", "answer": "y"}',
                b'{"text_input": "tab\\there", "output": "\\ud83d\\ude00 \\u00e9"}',
            ]
        ),
    ),
    "jsonl good": ("good.jsonl", _jsonl(GOOD)),
    "jsonl lone surrogates": (
        "halves.jsonl",
        _jsonl(GOOD)
        + b'\n{"text_input": "ab\\ud800c", "output": "\\udc00"}'
        + b'\n{"text_input": "\\ud83d\\ude00\\ud83d", "output": "\\ud83d\\ud83d\\ude00"}',
    ),
    "utf-32": ("wider.csv", codecs.BOM_UTF32_LE + "text_input,output\n".encode("utf-32-le")),
    "json list with trailing commas": (
        "list.json",
        ("[" + ",".join(json.dumps(r) + " " for r in GOOD) + ",\n]").encode(),
    ),
    "json wire shape": ("wire.json", json.dumps({"examples": {"examples": GOOD}}).encode()),
    "json examples not a list": ("bad-examples.json", b'{"examples": 5}'),
    "json unequal columns": (
        "cols.json",
        json.dumps({"text_input": ["a"] * 22, "output": ["b"] * 21}).encode(),
    ),
    "json column not a list": ("col.json", b'{"text_input": "a", "output": ["b"]}'),
    "json wrong shape": ("shape.json", b'{"inputs": [1], "outputs": [2]}'),
    "json syntax error on line 3": (
        "syntax.json",
        b'[\r\n  {"text_input": "a",\r\n   "output" "b"}\r\n]',
    ),
    "json scalar": ("scalar.json", b'"just text"'),
    "bad utf-8 on many lines": (
        "latin1.jsonl",
        b"\n".join(
            json.dumps({"text_input": f"caf{i}", "output": "ok"})
            .encode()
            .replace(b"caf", b"caf\xe9")
            for i in range(12)
        )
        + b"\n\xe2\x82x\xed\xa0\x80\xf4\x90\x80\x80",
    ),
    "utf-16": ("wide.csv", codecs.BOM_UTF16_LE + "text_input,output\n".encode("utf-16-le")),
    "unsupported suffix": ("notes.txt", b"hello"),
    "no suffix": ("data", b"hello"),
    "too big": ("big.csv", b"x" * (4 * 1024 * 1024 + 1)),
    "over a thousand problems": ("noise.jsonl", b"\n".join(b"x" for _ in range(1_200))),
    "over a thousand problems, two a record": (
        "pairs.jsonl",
        b"\n".join(b'{"text_input": "", "output": 1}' for _ in range(600)),
    ),
    "over a thousand problems in a json list": ("many.json", json.dumps([1] * 1_100).encode()),
}


@pytest.fixture(scope="module")
def js(browser, server):
    context = browser.new_context(viewport=DESKTOP)
    tab = context.new_page()
    tab.goto(server.url + "/")
    yield tab
    context.close()


def browser_result(tab, name: str, data: bytes, keys: dict[str, str] | None = None) -> dict:
    return tab.evaluate(
        """async ([name, b64, keys]) => {
            const m = await import("/ui/dataset.js");
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const r = m.readDataset(bytes, name, keys);
            return {problems: r.problems.map(m.problemText),
                    examples: r.examples.map((e) => [e.textInput, e.output])};
        }""",
        [name, base64.b64encode(data).decode(), keys or {}],
    )


def server_result(tmp_path: Path, name: str, data: bytes, keys: dict[str, str] | None = None):
    path = tmp_path / name
    path.write_bytes(data)
    options = {"input_key": keys["inputKey"], "output_key": keys["outputKey"]} if keys else {}
    try:
        dataset = read_dataset(path, **options)
    except DatasetInvalid as invalid:
        return {"problems": [str(p) for p in invalid.problems], "examples": []}
    return {"problems": [], "examples": [[e.text_input, e.output] for e in dataset.examples]}


@pytest.mark.parametrize("case", list(CASES))
def test_browser_and_server_find_the_same_problems(js, tmp_path: Path, case: str) -> None:
    name, data = CASES[case]
    expected = server_result(tmp_path, name, data)
    assert browser_result(js, name, data) == expected


def test_the_cases_cover_good_and_bad_files(tmp_path: Path) -> None:
    outcomes = {case: bool(server_result(tmp_path, *CASES[case])["problems"]) for case in CASES}
    assert not outcomes["good csv"] and not outcomes["json wire shape"]
    assert sum(outcomes.values()) >= 20


def test_column_names_are_configurable(js, tmp_path: Path) -> None:
    data = _csv(_good_rows(), header="question,answer")
    keys = {"inputKey": "question", "outputKey": "answer"}
    expected = server_result(tmp_path, "qa.csv", data, keys)
    assert expected["examples"]
    assert browser_result(js, "qa.csv", data, keys) == expected


JSON_TEXTS = [
    '{"a" 1}',
    "[1 2]",
    '{"a":}',
    "{",
    "[",
    "",
    "   ",
    '"abc',
    '"a\\x"',
    '"\\u12"',
    '"\\u12zz"',
    '"\\ud83d\\u12zz"',
    '{"a":1,}',
    "[1,]",
    "{,}",
    "tru",
    "-",
    "-x",
    "01",
    "1.",
    "1e",
    "1e+",
    "[1] x",
    "\ufeff[1]",
    '"\t"',
    '{"a":1 "b":2}',
    "[\n1,\n2\n3]",
    '"😀😀" x',
    '{"😀": 1 2}',
    "NaN",
    "-Infinity",
    "[1e400, -0.0, 123456789.125, 1e-7, 0.0001]",
    '{"a": "\\ud83d\\ude00", "b": "\\ud83d", "c": "\\/\\b\\f\\n\\r\\t\\"\\\\"}',
    "{1: 2}",
    "[" * 5 + "]" * 5,
    "[" * 3000,
    "9" * 4301,
]


def python_json(text: str) -> list:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return ["error", error.msg, error.lineno, error.colno]
    except RecursionError:
        return ["failure", "nested too deeply"]
    except ValueError as error:
        return ["failure", str(error)]
    return ["ok"]


@pytest.mark.parametrize("text", JSON_TEXTS)
def test_json_errors_match_python(js, text: str) -> None:
    got = js.evaluate(
        """async (text) => {
            const { loads } = await import("/ui/pyjson.js");
            const r = loads(text);
            if (r.error) return ["error", r.error.msg, r.error.lineno, r.error.colno];
            if (r.failure) return ["failure", r.failure];
            return ["ok"];
        }""",
        text,
    )
    assert got == python_json(text)
