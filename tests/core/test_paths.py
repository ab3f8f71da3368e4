"""Artifact names and run prefixes: what is accepted, how it is normalised, what is refused."""

from __future__ import annotations

import posixpath
from pathlib import PurePosixPath

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits
from runyard.core.paths import validate_artifact_name, validate_run_prefix

LIMITS = Limits()
PREFIX = "experiments/12/runs/3f2a-run"


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("model.pt", "model.pt"),
        ("outputs/plots/loss.png", "outputs/plots/loss.png"),
        ("./outputs//plots/./loss.png", "outputs/plots/loss.png"),
        ("outputs/", "outputs"),
        ("outputs\\plots\\loss.png", "outputs/plots/loss.png"),
        ("..hidden", "..hidden"),
        ("a/..b/c..", "a/..b/c.."),
        ("...", "..."),
        ("données/résumé é.txt", "données/résumé é.txt"),
        ("run:2/ab:c.txt", "run:2/ab:c.txt"),
    ],
)
def test_accepted_names_are_normalised(name: str, normalised: str) -> None:
    assert validate_artifact_name(name, LIMITS) == normalised


@pytest.mark.parametrize("name", [None, 3, b"model.pt", PurePosixPath("model.pt")])
def test_name_that_is_not_a_string_is_rejected(name: object) -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        validate_artifact_name(name, LIMITS)


def test_empty_name_is_rejected() -> None:
    with pytest.raises(ValidationError, match="must not be empty"):
        validate_artifact_name("", LIMITS)


@pytest.mark.parametrize("name", [".", "./", "./.", ".//./"])
def test_name_of_no_file_is_rejected(name: str) -> None:
    with pytest.raises(ValidationError, match="names no file"):
        validate_artifact_name(name, LIMITS)


def test_name_longer_than_the_limit_is_rejected() -> None:
    limits = Limits(max_file_name_length=10)
    assert validate_artifact_name("a" * 10, limits) == "a" * 10
    with pytest.raises(LimitExceededError, match="11 characters long; the limit is 10"):
        validate_artifact_name("a" * 11, limits)


@pytest.mark.parametrize("char", ["\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\x85"])
def test_control_characters_are_rejected(char: str) -> None:
    with pytest.raises(ValidationError, match="control character"):
        validate_artifact_name(f"logs/a{char}b.txt", LIMITS)


@pytest.mark.parametrize(
    "name",
    [
        "/etc/passwd",
        "//server/share/x",
        "\\\\server\\share\\x",
        "\\x",
        "C:\\x",
        "c:x",
        "Z:",
        "./C:/x",
        ".\\C:",
    ],
)
def test_absolute_name_is_rejected(name: str) -> None:
    with pytest.raises(ValidationError, match="relative to the run"):
        validate_artifact_name(name, LIMITS)


@pytest.mark.parametrize("name", ["..", "../x", "a/../b", "a/b/../../..", "a\\..\\b", "./.."])
def test_dotdot_component_is_rejected_not_resolved(name: str) -> None:
    with pytest.raises(ValidationError, match=r"'\.\.' component"):
        validate_artifact_name(name, LIMITS)


# Small alphabets that hit the interesting cases often, plus arbitrary text.
_tricky = st.text(alphabet=st.sampled_from(["a", ".", "/", "\\", ":", "C", " ", "\x00"]))
_names = st.one_of(
    _tricky, st.text(), st.lists(st.sampled_from(["..", ".", "a", ""])).map("/".join)
)


@settings(max_examples=500, database=None)
@given(name=_names)
@example(name="a/../b")
@example(name="a/./../..")
@example(name=".\\C:")  # collapsed to "C:", a drive
def test_accepted_name_stays_under_the_prefix(name: str) -> None:
    try:
        normalised = validate_artifact_name(name, LIMITS)
    except ValidationError:
        return
    joined = posixpath.normpath(posixpath.join(PREFIX, normalised))
    assert joined.startswith(PREFIX + "/")
    assert joined == f"{PREFIX}/{normalised}"  # already normal: nothing for normpath to do
    assert validate_artifact_name(normalised, LIMITS) == normalised


@pytest.mark.parametrize(
    "prefix", ["experiments/12/runs/3f2a-run", "a", "A.b_c-d/0", "runs/..x", "x../y"]
)
def test_well_formed_run_prefix_is_accepted(prefix: str) -> None:
    assert validate_run_prefix(prefix) == prefix


@pytest.mark.parametrize(
    "prefix",
    ["", "/runs/a", "runs/a/", "runs//a", "runs/../a", "..", "runs/./a", "a b", "a\\b", "a\n", "é"],
)
def test_malformed_run_prefix_is_rejected(prefix: str) -> None:
    with pytest.raises(ValidationError, match="run prefix"):
        validate_run_prefix(prefix)
