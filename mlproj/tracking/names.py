"""Generated identifiers in MLflow's style: `adjective-animal-NNN` run names, 18-digit
experiment ids, 32-hex run ids."""

from __future__ import annotations

import os
import uuid

# Our own word lists. Each adjective has at most 8 letters and each animal at most 7, so a
# name never exceeds MLflow's 20-character limit for generated names.
_ADJECTIVES = (
    "amber",
    "agile",
    "bold",
    "brave",
    "bright",
    "calm",
    "clever",
    "cosmic",
    "crisp",
    "curious",
    "daring",
    "eager",
    "fancy",
    "gentle",
    "glad",
    "golden",
    "grand",
    "happy",
    "honest",
    "humble",
    "jolly",
    "kind",
    "lively",
    "lucky",
    "mellow",
    "merry",
    "nimble",
    "noble",
    "polite",
    "proud",
    "quick",
    "quiet",
    "rare",
    "rosy",
    "silent",
    "silver",
    "smooth",
    "steady",
    "sunny",
    "swift",
    "tidy",
    "upbeat",
    "valiant",
    "vivid",
    "warm",
    "wise",
    "witty",
    "zesty",
)
_ANIMALS = (
    "ant",
    "bat",
    "bear",
    "bee",
    "bison",
    "boar",
    "cat",
    "carp",
    "cod",
    "colt",
    "crab",
    "crane",
    "crow",
    "deer",
    "dove",
    "duck",
    "eel",
    "elk",
    "finch",
    "fox",
    "frog",
    "gnu",
    "goat",
    "goose",
    "hare",
    "hawk",
    "heron",
    "ibis",
    "jay",
    "koala",
    "lark",
    "lemur",
    "lion",
    "lynx",
    "mole",
    "moose",
    "moth",
    "newt",
    "otter",
    "owl",
    "panda",
    "pig",
    "puma",
    "quail",
    "ram",
    "robin",
    "seal",
    "shrew",
    "snail",
    "swan",
    "tern",
    "toad",
    "trout",
    "vole",
    "wasp",
    "whale",
    "wolf",
    "wren",
    "yak",
    "zebra",
)


def _below(n: int) -> int:
    """A uniform random int in [0, n) from the OS's generator, as random.SystemRandom draws it
    (whole bits, redrawn when too large); importing `random` would cost every run more."""
    bits = n.bit_length()
    while True:
        value = int.from_bytes(os.urandom((bits + 7) // 8), "big") >> (-bits % 8)
        if value < n:
            return value


def run_name() -> str:
    """A random `adjective-animal-NNN` name, as MLflow generates when a run has none."""
    adjective, animal = _ADJECTIVES[_below(len(_ADJECTIVES))], _ANIMALS[_below(len(_ANIMALS))]
    return f"{adjective}-{animal}-{_below(1000)}"


def run_id() -> str:
    """32 lowercase hex characters (uuid4().hex), the form MLflow's stores use."""
    return uuid.uuid4().hex


def experiment_id() -> str:
    """An 18-digit random id without a leading zero, as MLflow's file store gives experiments
    created by name."""
    return str(_below(9) + 1) + "".join(str(_below(10)) for _ in range(17))
