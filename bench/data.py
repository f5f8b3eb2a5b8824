"""A deterministic "short extraction" task: find the city named in a one-line business note.

Every sentence also names a person, a weekday or a street, so the answer is not simply "the
capitalised word". The held-out set uses (template, city) pairs that never occur in training,
some of them with cities the training set never shows, so it measures the task and not recall.
"""

from __future__ import annotations

import itertools
import random

Example = tuple[str, str]
"""(text_input, output)"""

CITIES = (
    "Porto", "Lyon", "Dresden", "Bergen", "Seville", "Krakow", "Turin", "Ghent", "Utrecht",
    "Malmo", "Tampere", "Graz", "Bilbao", "Leeds", "Cork", "Brno", "Split", "Riga", "Osaka",
    "Denver", "Austin", "Calgary", "Perth", "Durban", "Tucson", "Halifax", "Nagoya", "Quito",
    "Cape Town", "Rio de Janeiro", "San Diego", "Buenos Aires", "Salt Lake City", "Kuala Lumpur",
    "Hong Kong", "New Orleans", "Las Palmas", "Santa Cruz", "Ho Chi Minh City", "Tel Aviv",
)  # fmt: skip
PEOPLE = ("Maria", "Tomasz", "Aiko", "Jonas", "Priya", "Lucas", "Ingrid", "Omar", "Chloe", "Ravi")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STREETS = ("Harbour Road", "Elm Street", "Station Square", "Mill Lane", "King Avenue")
PRODUCTS = ("desk lamps", "bike helmets", "coffee grinders", "yoga mats", "printer toner")

# Short and long phrasings, so examples run from about 12 to 40 tokens.
TEMPLATES = (
    "Extract the city: Order {n} shipped from the {city} warehouse on {day}.",
    "Extract the city: {person} flew to {city}.",
    "Extract the city: Meeting moved to {city}, {day} at {hour}:00.",
    "Extract the city: Invoice {n} for {qty} {product} is billed to our {city} office.",
    "Extract the city: {person} from accounts says the {city} branch on {street} closes early "
    "on {day}.",
    "Extract the city: Parcel {n} was scanned in {city} and is due to reach {person} by {day}.",
    "Extract the city: The {city} team ordered {qty} {product}.",
    "Extract the city: Please book {person} a hotel near {street} in {city} for {day} night, "
    "budget {n} euros.",
    "Extract the city: Weather delayed the {day} delivery of {product} to {city}.",
    "Extract the city: {person} will present the quarterly numbers in {city}.",
    "Extract the city: Support ticket {n}: customer in {city} reports that {qty} {product} "
    "arrived damaged and asks {person} for a refund before {day}.",
    "Extract the city: Return {qty} {product} to the depot at {street}, {city}.",
)
HELD_OUT_ONLY_CITIES = 8
"""The last cities of a shuffled list appear only in the held-out set."""


def _fill(template: str, city: str, rng: random.Random) -> str:
    return template.format(
        city=city,
        n=rng.randint(100, 99999),
        qty=rng.randint(2, 60),
        hour=rng.randint(8, 18),
        day=rng.choice(DAYS),
        person=rng.choice(PEOPLE),
        street=rng.choice(STREETS),
        product=rng.choice(PRODUCTS),
    )


def extraction_task(
    seed: int = 0, train_count: int = 100, held_out_count: int = 40
) -> tuple[list[Example], list[Example]]:
    """Training and held-out examples of the city-extraction task, the same for the same seed.

    Returns:
        (training examples, held-out examples), each a list of (text_input, output).
    """
    rng = random.Random(seed)
    cities = list(CITIES)
    rng.shuffle(cities)
    train_cities = cities[:-HELD_OUT_ONLY_CITIES]
    pairs = list(itertools.product(range(len(TEMPLATES)), train_cities))
    rng.shuffle(pairs)
    if train_count > len(pairs) // 2:
        raise ValueError(f"at most {len(pairs) // 2} training examples, got {train_count}")
    train_pairs = pairs[:train_count]
    # Unseen combinations of seen cities, and cities training never shows.
    unseen = pairs[train_count:] + list(
        itertools.product(range(len(TEMPLATES)), cities[-HELD_OUT_ONLY_CITIES:])
    )
    rng.shuffle(unseen)
    held_pairs = unseen[:held_out_count]
    train = [(_fill(TEMPLATES[t], c, rng), c) for t, c in train_pairs]
    held_out = [(_fill(TEMPLATES[t], c, rng), c) for t, c in held_pairs]
    return train, held_out
