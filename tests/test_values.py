"""Values of a French sentence, read and compared by meaning (pure, literal inputs)."""

from __future__ import annotations

import pytest

from assistant.values import Value, extract_values, parse_number_words, same_value


def values(text: str) -> list[tuple[str, object]]:
    return [(v.kind, v.amount) for v in extract_values(text)]


@pytest.mark.parametrize(
    "text",
    [
        "1 260 000 euros",
        "1,26 million d'euros",
        "1\u202f260\u202f000 €",
        "1\u00a0260\u00a0000 EUR",
        "1,26 M€",
    ],
)
def test_amounts_written_differently_are_one_value(text):
    assert values(text) == [("amount", 1_260_000.0)]


def test_thousands_in_every_spelling():
    assert values("312 000 €, 312 000 euros, 312 k€ et 27,5 k€") == [("amount", 312_000.0)] * 3 + [("amount", 27_500.0)]
    assert values("3,2 millions d'euros") == [("amount", 3_200_000.0)]


def test_narrow_no_break_space_groups_digits_instead_of_splitting_them():
    assert values("148\u202f000 heures") == [("number", 148_000.0)]
    assert values("de 30 à 120 m²") == [("number", 30.0), ("number", 120.0)]


def test_percentages_and_shares():
    assert values("61 %, 11 pour cent, la moitié, pour un quart") == [
        ("percent", 61.0),
        ("percent", 11.0),
        ("percent", 50.0),
        ("percent", 25.0),
    ]


@pytest.mark.parametrize(
    ("words", "number"),
    [("trois", 3), ("vingt-trois", 23), ("cent quarante-trois", 143), ("quatre-vingt-dix", 90), ("vingt et un", 21)],
)
def test_numbers_in_words(words, number):
    assert parse_number_words(words) == number
    assert values(f"Ils sont {words} salariés.") == [("number", float(number))]


def test_an_article_is_not_a_number_but_an_approximation_is():
    assert values("une cohorte et un référent") == []
    assert values("une trentaine d'embauches") == [("number", 30.0)]


def test_dates_years_and_times():
    assert values("le 1er janvier 2020, le 14/10/2021, en mars 2023, fin 2020") == [
        ("date", (2020, 1, 1)),
        ("date", (2021, 10, 14)),
        ("date", (2023, 3, 0)),
        ("date", (2020, 0, 0)),
    ]
    assert values("le contrat 2015-2023") == [("date", (2015, 0, 0)), ("date", (2023, 0, 0))]
    assert values("départ à 4 h 35, ou 4h35") == [("time", (4, 35)), ("time", (4, 35))]
    assert values("40 heures de bénévolat") == [("number", 40.0)]  # a duration, not a time of day


def test_comparison():
    year = Value("date", (2020, 0, 0), 0, 4)
    assert same_value(year, Value("date", (2020, 1, 1), 0, 1))  # « en 2020 » is said by « le 1er janvier 2020 »
    assert not same_value(year, Value("date", (2021, 0, 0), 0, 1))
    assert not same_value(Value("date", (2020, 1, 1), 0, 1), year)  # the day is not in the source
    assert same_value(Value("number", 312_000.0, 0, 1), Value("amount", 312_000.0, 0, 1))
    assert not same_value(Value("number", 74.0, 0, 1), Value("percent", 74.0, 0, 1))
    assert not same_value(Value("amount", 321_000.0, 0, 1), Value("amount", 312_000.0, 0, 1))
