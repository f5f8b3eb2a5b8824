"""The browser UI end to end: sign in, check an upload, tune from a CSV file and watch the
loss curve grow, cancel, share, delete, and the playground's streamed answers."""

from __future__ import annotations

import re
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from live import Server, create_tuned, start_tuning
from sintonia.datasets import parse_dataset
from sintonia.errors import DatasetInvalid
from webui import screenshot, sign_in

UPLOAD = "Upload a file of examples (CSV, JSON or JSONL, at most 4 MB)"


def csv_file(name: str, rows: list[tuple[str, str]]) -> dict:
    lines = ["text_input,output", *(f"{a},{b}" for a, b in rows)]
    return {"name": name, "mimeType": "text/csv", "buffer": ("\n".join(lines) + "\n").encode()}


GOOD_ROWS = [(f"say w{i}", "ok") for i in range(24)]


@pytest.fixture(scope="module")
def ready(server: Server) -> str:
    """An ACTIVE tuned model of the owner's, tuned to answer "ok"; returns its id."""
    create_tuned(server, "web-ready", epochs=4, displayName="Answers ok")
    return "web-ready"


def test_sign_in_refuses_a_bad_key_in_words_then_signs_in(page, server: Server) -> None:
    page.get_by_label("API key").fill("not-a-key")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == "API key not valid. Please pass a valid API key."
    screenshot(page, "sign-in")
    sign_in(page, server)
    assert page.get_by_role("navigation", name="Main").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("API key").wait_for()


def test_keyboard_alone_signs_in_and_moves_between_pages(page, server: Server) -> None:
    page.get_by_label("API key").wait_for()
    assert page.evaluate("document.activeElement.type") == "password"  # the key field
    page.keyboard.type(server.keys["owner"])
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="My Library").wait_for()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "New tuned model":
            break
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused link shows no focus ring"
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="New tuned model").wait_for()
    assert page.evaluate("document.activeElement.tagName") == "H1"  # focus moved to the page


def test_a_bad_file_lists_every_problem_with_row_and_field(page, server: Server) -> None:
    sign_in(page, server)
    page.goto(server.url + "/#/new")
    rows = [("say a", ""), ("   ", "ok"), ("x" * 40_001, "ok"), ("say b", "fine")]
    upload = csv_file("bad.csv", rows)
    page.get_by_label(UPLOAD).set_input_files(upload)
    table = page.get_by_role("table", name="Problems found")
    table.wait_for()
    shown = [
        [cell.inner_text() for cell in row.locator("td").all()]
        for row in table.locator("tbody tr").all()
    ]
    with pytest.raises(DatasetInvalid) as server_says:
        parse_dataset(upload["buffer"], "csv", source="bad.csv")
    expected = [[p.location, p.field or "—", p.message] for p in server_says.value.problems]
    assert shown == expected
    assert ["row 2", "output", "is empty"] in shown
    assert any(r[0] == "row 4" and r[1] == "text_input" and "40,001" in r[2] for r in shown)
    assert page.get_by_text("bad.csv has 4 problems").is_visible()
    screenshot(page, "new-problems")
    page.get_by_role("button", name="Start tuning").click()  # refused here, nothing sent
    assert page.get_by_text("Fix the problems listed under Examples first.").is_visible()
    status, listing = server.call("GET", "/v1beta/tunedModels")
    assert not [m for m in listing.get("tunedModels", []) if m.get("displayName") == "bad"]


def test_pasted_examples_are_checked_as_they_are_typed(page, server: Server) -> None:
    sign_in(page, server)
    page.goto(server.url + "/#/new")
    lines = [f'{{"text_input": "say w{i}", "output": "ok"}}' for i in range(24)]
    lines[2] = '{"text_input": "say w2" "output": "ok"}'
    page.get_by_label("Or paste examples").fill("\n".join(lines))
    table = page.get_by_role("table", name="Problems found")
    expect(table.locator("tbody tr")).to_have_count(1)
    with pytest.raises(DatasetInvalid) as server_says:
        parse_dataset("\n".join(lines).encode(), "jsonl", source="pasted examples")
    (expected,) = server_says.value.problems
    assert expected.message.startswith("invalid JSON: Expecting ',' delimiter")
    cells = table.locator("tbody tr td").all_inner_texts()
    assert cells == ["line 3", "—", expected.message]
    lines[2] = '{"text_input": "say w2", "output": "ok"}'
    page.get_by_label("Or paste examples").fill("\n".join(lines))
    page.get_by_text("from pasted examples, all valid.").wait_for()


def test_a_problem_only_the_server_can_see_is_shown_at_its_row(page, server: Server) -> None:
    """Fitting the base model's context takes its tokenizer: only the server checks that."""
    sign_in(page, server)
    page.goto(server.url + "/#/new")
    rows = list(GOOD_ROWS)
    rows[2] = ("w" * 600, "ok")  # the tiny model's context is 512 tokens, one per character
    page.get_by_label(UPLOAD).set_input_files(csv_file("long.csv", rows))
    page.get_by_text("24 examples", exact=True).wait_for()
    page.get_by_label("Base model").select_option("models/tiny-gemma")
    page.get_by_role("button", name="Start tuning").click()
    refusal = page.get_by_role("alert").filter(has_text="The server found problems")
    refusal.wait_for()
    item = refusal.get_by_role("listitem")
    expect(item).to_have_text(re.compile(r"^example 2: is \d+ tokens .+ \(row 4 of long\.csv\)$"))
    assert page.url.endswith("#/new")  # nothing was created


def chart_points(page) -> int:
    return int(page.locator("svg.chart").get_attribute("data-points"))


def test_tune_from_a_csv_file_and_watch_the_loss_curve_grow(page, server: Server) -> None:
    sign_in(page, server)
    page.goto(server.url + "/#/new")
    page.get_by_label(UPLOAD).set_input_files(csv_file("greetings.csv", GOOD_ROWS))
    page.get_by_text("24 examples", exact=True).wait_for()
    assert page.get_by_role("table", name=re.compile("Preview")).locator("tbody tr").count() == 10
    page.get_by_label("Base model").select_option("models/tiny-gemma")
    # 240 steps of one example: long enough on any CPU for the page to poll it mid-run.
    page.get_by_label("Epochs").fill("10")
    page.get_by_label("Batch size").fill("1")
    assert page.get_by_text("Steps: 240").is_visible()
    screenshot(page, "new-valid")
    page.get_by_role("button", name="Start tuning").click()
    page.wait_for_url(re.compile(r"#/models/greetings-"))
    page.get_by_role("heading", name="greetings").wait_for()

    seen: list[int] = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        seen.append(chart_points(page))
        if page.get_by_role("status").filter(has_text="Ready").count():
            break
        page.wait_for_timeout(300)
    growing = sorted(set(seen) - {0, 240})
    assert len(growing) >= 2, f"the chart never grew step by step while training: {seen}"
    assert seen == sorted(seen), "points went missing between polls"
    assert chart_points(page) == 240
    assert page.locator("svg.chart .epochs line").count() == 9  # 10 epochs, 9 boundaries
    page.get_by_text("240 snapshots (one per step)").click()
    assert page.locator(".scroll table tbody tr").count() == 240
    screenshot(page, "model")

    page.goto(server.url + "/#/library")
    row = page.locator("tr", has=page.get_by_role("link", name="greetings"))
    row.get_by_text("Ready").wait_for()
    screenshot(page, "library")

    # The next estimate learns from this run.
    page.goto(server.url + "/#/new")
    page.get_by_label(UPLOAD).set_input_files(csv_file("again.csv", GOOD_ROWS))
    page.get_by_label("Base model").select_option("models/tiny-gemma")
    estimate = page.locator(".summary").inner_text()
    assert re.search(r"Estimated duration: about .+ judging by \d+ earlier tuned model", estimate)


def test_cancel_a_running_job_after_confirming(page, server: Server) -> None:
    start_tuning(server, "web-cancel", epochs=400, displayName="Long job")
    sign_in(page, server)
    row = page.locator("tr", has=page.get_by_role("link", name="Long job"))
    expect(row.get_by_role("progressbar", name="Training progress of Long job")).to_be_visible()
    expect(row.locator(".sub").last).to_have_text(
        re.compile(r"Step \d+ of 2400|Queued|Waiting|Starting")
    )
    screenshot(page, "library-training")
    page.goto(server.url + "/#/models/web-cancel")
    page.get_by_role("heading", name="Long job").wait_for()
    page.get_by_role("button", name="Cancel tuning").click()
    dialog = page.get_by_role("dialog", name="Cancel tuning Long job?")
    dialog.get_by_role("button", name="Keep training").click()  # the safe choice first
    assert not dialog.is_visible()
    page.get_by_role("button", name="Cancel tuning").click()
    screenshot(page, "cancel-dialog")
    dialog.get_by_role("button", name="Cancel tuning").click()
    page.locator(".badge", has_text="Cancelled").wait_for(timeout=120_000)
    assert page.locator(".status-line").inner_text().startswith("Cancelled. Operation cancelled.")
    assert not page.get_by_role("button", name="Cancel tuning").count()
    screenshot(page, "model-cancelled")


def test_playground_streams_the_tuned_and_base_answers_side_by_side(
    page, server: Server, ready: str
) -> None:
    sign_in(page, server)
    page.goto(server.url + f"/#/playground?model=tunedModels/{ready}")
    expect(page.get_by_label("Tuned model")).to_have_value(f"tunedModels/{ready}")
    page.get_by_label("Prompt").fill("say w3")
    page.get_by_label("Max output tokens").fill("12")
    page.get_by_role("button", name="Run").click()
    tuned = page.get_by_role("region", name="Answer of Answers ok")
    base = page.get_by_role("region", name="Answer of models/tiny-gemma")
    for pane in (tuned, base):
        pane.locator(".meta", has_text="Done").wait_for(timeout=60_000)
    assert tuned.locator(".output").inner_text() == "ok"
    assert base.locator(".output").inner_text()
    # The base model rambles for 12 tokens: they came as several streamed events.
    assert int(base.locator(".output").get_attribute("data-chunks")) > 1
    screenshot(page, "playground")


def test_api_errors_are_shown_in_words(page, server: Server, ready: str) -> None:
    sign_in(page, server)
    page.goto(server.url + f"/#/playground?model=tunedModels/{ready}")
    expect(page.get_by_label("Tuned model")).to_have_value(f"tunedModels/{ready}")
    page.get_by_label("Prompt").fill("say w3")
    page.get_by_label("Temperature").fill("5")
    page.get_by_role("button", name="Run").click()
    error = page.get_by_role("region", name="Answer of Answers ok").get_by_role("alert")
    error.wait_for()
    text = error.inner_text()
    assert "temperature" in text.lower() and "{" not in text

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, server, "stranger")
    page.goto(server.url + f"/#/models/{ready}")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == f"Tuned model tunedModels/{ready} does not exist."


def test_sharing_puts_the_model_in_the_readers_library(page, server: Server, ready: str) -> None:
    sign_in(page, server)
    page.goto(server.url + f"/#/models/{ready}")
    page.get_by_label("Email address").fill("reader@example.com")
    page.get_by_label("Role").select_option("READER")
    page.get_by_role("button", name="Share").click()
    page.get_by_text("Shared with reader@example.com as reader.").wait_for()
    page.get_by_role("button", name="Let everyone read it").click()
    page.get_by_role("button", name="Stop letting everyone read it").wait_for()
    people = page.locator(".people li").all_inner_texts()
    assert any("reader@example.com" in p and "Reader" in p for p in people)
    assert any(p.startswith("Everyone") for p in people)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, server, "reader")
    page.get_by_role("link", name="Answers ok").wait_for()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, server, "stranger")
    page.get_by_text(re.compile(r"^\d+ tuned models?\.$")).wait_for()
    assert not page.get_by_role("link", name="Answers ok").count()
    page.get_by_label("Include models everyone can read").check()
    page.get_by_role("link", name="Answers ok").wait_for()


def test_delete_asks_first_then_removes_the_model(page, server: Server) -> None:
    create_tuned(server, "web-doomed", displayName="Doomed")
    sign_in(page, server)
    page.goto(server.url + "/#/models/web-doomed")
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Keep it").click()
    assert server.call("GET", "/v1beta/tunedModels/web-doomed")[0] == 200
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.get_by_text("Deleted Doomed.").wait_for()
    assert server.call("GET", "/v1beta/tunedModels/web-doomed")[0] == 404


PAGES = ["#/library", "#/new", "#/models/web-ready", "#/playground"]


@pytest.mark.parametrize("route", PAGES)
def test_every_control_has_a_label(page, server: Server, ready: str, route: str) -> None:
    sign_in(page, server)
    page.goto(server.url + "/" + route)
    page.locator("main h1").wait_for()
    page.wait_for_load_state("networkidle")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea, button, a[href]")]
            .filter((el) => el.offsetParent !== null || el.type === "file")
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                && !el.textContent.trim())
            .map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == []


def test_the_page_is_served_at_the_root_under_a_strict_policy(server: Server) -> None:
    with urllib.request.urlopen(server.url + "/") as response:
        assert response.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page = response.read().decode()
    assert '<script type="module" src="/ui/app.js">' in page
    with urllib.request.urlopen(server.url + "/ui/dataset.js") as response:
        assert "javascript" in response.headers["content-type"]
    status, body = server.call("GET", "/ui/missing.js", key=None)
    assert status == 404 and body["error"]["status"] == "NOT_FOUND"
    status, body = server.call("GET", "/v1beta/nothing-here")
    assert status == 404 and body["error"]["status"] == "NOT_FOUND"
