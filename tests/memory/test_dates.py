"""Relative dates resolved against the day they were said; dates read back out of questions."""

from __future__ import annotations

from datetime import date

from memory import dates

MONDAY = date(2023, 5, 15)


def test_relative_phrases_resolve_against_the_day_they_were_said():
    found = dates.resolve(
        "Yesterday I ran, the day before yesterday I rested, and two days ago it rained.", MONDAY
    )
    assert found == [
        ("Yesterday", date(2023, 5, 14)),
        ("the day before yesterday", date(2023, 5, 13)),
        ("two days ago", date(2023, 5, 13)),
    ]


def test_a_weekday_means_the_latest_one_before_the_day_it_was_said():
    assert dates.resolve("last Sunday", MONDAY) == [("last Sunday", date(2023, 5, 14))]
    # said on a Monday, "on Monday" is a week back, never the same day
    assert dates.resolve("on Monday", MONDAY) == [("on Monday", date(2023, 5, 8))]
    assert dates.resolve("last weekend", MONDAY) == [("last weekend", date(2023, 5, 13))]


def test_today_and_counts_of_weeks():
    assert dates.resolve("this morning", MONDAY) == [("this morning", MONDAY)]
    assert dates.resolve("three weeks ago", MONDAY) == [("three weeks ago", date(2023, 4, 24))]


def test_text_without_relative_dates_resolves_to_nothing():
    assert dates.resolve("The morning paper was late.", MONDAY) == []


def test_a_day_is_spelled_the_ways_a_question_may_name_it():
    assert dates.spelled(date(2023, 5, 14)) == "Sunday 14 May 2023 (2023-05-14)"


def test_questions_name_days_in_several_forms():
    assert dates.query_days("What did Dan do on 14 May 2023?") == [(2023, 5, 14)]
    assert dates.query_days("Anything on May 14th, 2023?") == [(2023, 5, 14)]
    assert dates.query_days("on the 3rd of June") == [(None, 6, 3)]
    assert dates.query_days("on 2023-05-14") == [(2023, 5, 14)]
    assert dates.query_days("What happened in May?") == []


def test_questions_name_periods_of_a_month():
    assert dates.query_periods("What was up in mid August?") == [(8, range(11, 21))]
    assert dates.query_periods("at the end of March") == [(3, range(21, 32))]


def test_story_times_without_a_date_have_no_day():
    assert dates.parse_day("2023-05-15T12:00") == MONDAY
    assert dates.parse_day("") is None
    assert dates.parse_day("evening") is None
