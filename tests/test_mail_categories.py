"""One vocabulary of category names, with the identifiers and the old spellings accepted."""

from __future__ import annotations

import pytest

from app.mail.categories import CATEGORY_NAMES, category_name, parse_category
from app.mail.types import CATEGORIES


def test_every_category_has_a_name_and_reads_back_from_it() -> None:
    for code in CATEGORIES:
        assert parse_category(category_name(code)) == code
        assert parse_category(code) == code


@pytest.mark.parametrize("typed", ["do not contact", "Do-Not-Contact", "do_not_contact", "unsubscribe",
                                   "  DO   not contact "])
def test_do_not_contact_in_any_spelling(typed: str) -> None:
    assert parse_category(typed) == "unsubscribe"


def test_names_with_a_space_and_the_old_identifiers() -> None:
    assert parse_category("not interested") == parse_category("not_interested") == "not_interested"
    assert parse_category("auto reply") == parse_category("auto-reply") == "auto_reply"
    assert parse_category("Out of office") == "out_of_office"


def test_an_unknown_category_names_the_choices() -> None:
    with pytest.raises(ValueError) as exc:
        parse_category("hot")
    assert "'hot'" in str(exc.value) and "do not contact" in str(exc.value)
    assert category_name("unsubscribe") == "do not contact" == CATEGORY_NAMES["unsubscribe"]
