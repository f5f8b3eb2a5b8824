"""The demo task: "next number", after the Gemini tuning quickstart's dataset.

The quickstart's 15 examples mix digits, negatives, thousands separators and English words.
A seeded generator adds more of the same four kinds; the held-out inputs appear nowhere in
training, so getting them right shows the model learned the task, not the examples.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from sintonia.datasets import Dataset, dataset_from_records

QUICKSTART = [
    ("1", "2"),
    ("3", "4"),
    ("-3", "-2"),
    ("twenty two", "twenty three"),
    ("two hundred", "two hundred one"),
    ("ninety nine", "one hundred"),
    ("8", "9"),
    ("-98", "-97"),
    ("1,000", "1,001"),
    ("10,100,000", "10,100,001"),
    ("thirteen", "fourteen"),
    ("eighty", "eighty one"),
    ("one", "two"),
    ("three", "four"),
    ("seven", "eight"),
]

# (input, expected): each kind twice, with numbers the training set never contains.
HELD_OUT = [
    ("41", "42"),
    ("308", "309"),
    ("-17", "-16"),
    ("-240", "-239"),
    ("2,499", "2,500"),
    ("7,000", "7,001"),
    ("fifty five", "fifty six"),
    ("twenty nine", "thirty"),
]
_HELD_OUT_NUMBERS = {41, 308, -17, -240, 2499, 7000, 55, 29}

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """English words for 0 <= n < 1,000,000, in the quickstart's style (no "and")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + (f" {_ONES[n % 10]}" if n % 10 else "")
    if n < 1000:
        rest = n % 100
        return f"{_ONES[n // 100]} hundred" + (f" {number_words(rest)}" if rest else "")
    rest = n % 1000
    return f"{number_words(n // 1000)} thousand" + (f" {number_words(rest)}" if rest else "")


_KINDS: dict[str, tuple[Callable[[random.Random], int], Callable[[int], str]]] = {
    "digits": (lambda r: r.randint(0, 499), str),
    "negative": (lambda r: -r.randint(2, 499), str),
    "thousands": (lambda r: r.randint(1000, 9998), lambda n: f"{n:,}"),
    "words": (lambda r: r.randint(0, 99), number_words),
}


def next_number_pairs(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """The quickstart's examples, then generated ones up to `count`, avoiding held-out numbers."""
    rng = random.Random(seed)
    pairs = list(QUICKSTART)
    seen = {x for x, _ in pairs}
    kinds = list(_KINDS.values())
    while len(pairs) < count:
        draw, show = kinds[len(pairs) % len(kinds)]
        n = draw(rng)
        if n in _HELD_OUT_NUMBERS or n + 1 in _HELD_OUT_NUMBERS or show(n) in seen:
            continue
        seen.add(show(n))
        pairs.append((show(n), show(n + 1)))
    return pairs[:count]


def next_number_dataset(count: int = 100, seed: int = 0) -> Dataset:
    return dataset_from_records(next_number_pairs(count, seed), source="next-number")
