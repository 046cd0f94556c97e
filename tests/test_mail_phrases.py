"""The faster readings give the answers of the slower ones: a phrase alternation narrowed to the
phrases a text can hold finds what the whole alternation finds, and the bounce scan names the
addresses flufl.bounce names."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flufl.bounce import all_failures as flufl_all_failures

from app.mail.bounce_scan import all_failures
from app.mail.folding import fold, fold_pattern, normalize
from app.mail.parse import message_from_raw
from app.mail.phrases import COMPILE_AT, Chooser, Phrases, grams, leading_branches, required_run, run_reach
from app.mail.rules import default_rules
from tests.test_mail_unchanged import corpus_messages, fixture_messages

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("pattern", "run"), [
    ("not interested", "not interested"),
    ("(?:very )?interest(?:ed|ing)", "interest"),
    (r"\bremove me\b", "remove me"),
    ("no", "no"),
    ("(?:stop|halt) (?:emails|mails)", " "),
    ("l(?:oe?)schen", "schen"),
    ("(?i:abcd)", ""),
])
def test_the_run_every_match_holds(pattern, run):
    assert required_run(pattern) == run


@pytest.mark.parametrize(("pattern", "run", "reach"), [
    ("not interested", "not interested", 0),
    ("(?:very )?interest(?:ed|ing)", "interest", 5),
    ("(?:please )?(?:(?:do not|don't) )?email me", "email me", 14),
    (r"(?<=\bno )thanks", "thanks", 0),
    ("(?:one|two) .{0,25}three", "three", 29),
    ("a+bcd", "bcd", -1),
    (r"(ab)\1xyz", "xyz", -1),  # a back reference: its group's width is not read
    ("(?i:abcd)", "", -1),
])
def test_how_far_before_its_run_a_match_can_begin(pattern, run, reach):
    """The most characters a match holds before its run: a phrase is searched from that far
    before the run's first place; -1 where that has no bound or is not known."""
    assert (required_run(pattern), run_reach(pattern)) == (run, reach)


@pytest.mark.parametrize(("pattern", "apart"), [
    ("(?:stop|halt) (?:emails|mails)", ["(?:stop) (?:emails|mails)", "(?:halt) (?:emails|mails)"]),
    ("sick leave|parental leave", ["sick leave", "parental leave"]),
    (r"(?=[crt])(?:\b(?:ticket|case) no)", [r"(?=[crt])(?:\b(?:ticket) no)", r"(?=[crt])(?:\b(?:case) no)"]),
    ("(?:(?:a|b)c|d)e", ["(?:(?:a)c)e", "(?:(?:b)c)e", "(?:d)e"]),
    (r"(?<!not )(?:[|)]x|y)z", [r"(?<!not )(?:[|)]x)z", r"(?<!not )(?:y)z"]),  # a bar in a class is a character
    ("(?:very |so )?interested", ["(?:very |so )?interested"]),  # the group may be passed by
    ("(?:a|b){2}c", ["(?:a|b){2}c"]),
    ("please (?:stop|halt)", ["please (?:stop|halt)"]),  # it begins with a character
    ("(?i)stop|halt", ["(?i)stop|halt"]),  # a flag of its own
    (r"(a|b)\1", [r"(a|b)\1"]),  # a reference to a group
    ("(?:yes|) please", ["(?:yes|) please"]),  # an empty branch
    ("yes)|no", ["yes)|no"]),  # not a pattern: a group closed that was not opened
    ("|".join(f"w{k}" for k in range(65)), ["|".join(f"w{k}" for k in range(65))]),
])
def test_a_phrase_is_taken_apart_at_the_alternation_it_begins_with(pattern, apart):
    """A phrase searched alone is searched as the branches of the alternation it begins with, each
    with the rest of the phrase after it; one that begins otherwise, or whose branches could not
    be told apart safely, is kept whole."""
    assert leading_branches(pattern) == apart


def _texts() -> list[str]:
    out = []
    for raw in fixture_messages().values():
        text = raw.decode("utf-8", "replace").split("\n\n", 1)[-1]
        out.append(fold(normalize(text))[:8000])
    return out + ["", "no", "not interested, thanks", "bitte löschen sie mich", "out of office until monday"]


@pytest.mark.parametrize(("text", "folded"), [
    ("Straße", "strasse"), ("Łódź", "lodz"), ("Søren Æbelø", "soren aebelo"), ("œuvre", "oeuvre"),
    ("Đorđe", "dorde"), ("KAPITAL ẞ", "kapital ss"), ("ı", "i"), ("Crème brûlée", "creme brulee"),
    ("naïve “quote”", "naive “quote”"), ("plain ascii", "plain ascii"),
])
def test_folding_spells_out_letters_unicode_does_not_decompose(text, folded):
    """A letter without a decomposition is spelled as people without the key type it, alone or
    beside letters that decompose; a text without one loses only its accents."""
    assert fold(text) == folded


def test_a_narrowed_alternation_finds_what_the_whole_one_finds():
    rules = default_rules()
    sets = [*rules.intents.values(), rules.ooo_body, rules.autoreply_body, rules.litotes]
    texts = _texts()
    narrowed_some = False
    for patterns in sets:
        phrases = Phrases(tuple(fold_pattern(p) for p in patterns))
        for text in texts:
            # searched phrase by phrase when first met, compiled once met COMPILE_AT times
            handed = [phrases.for_text(grams(text)) for _ in range(COMPILE_AT)]
            narrowed_some |= handed[-1] is not phrases.full
            for rx in (handed[0], handed[-1]):
                for pos in (0, len(text) // 2):
                    want = phrases.full.search(text, pos)
                    got = rx.search(text, pos) if rx is not None else None
                    assert (want and (want.start(), want.end())) == (got and (got.start(), got.end())), \
                        (patterns[:3], text[:80])
    assert narrowed_some


def test_phrase_sets_choosing_together_choose_what_each_chooses_alone():
    """A reader's phrase sets make their choices for a text together, in one pass over its
    pieces: each set finds in any text what it finds choosing alone, also in a text whose
    pieces were cut before a set made later indexed pieces of its own."""
    rules = default_rules()
    pattern_sets = [*rules.intents.values(), rules.ooo_body, rules.autoreply_body, rules.litotes,
                    rules.referral_cues, ("no", "not interested", "(?:ya|ya sure)")]  # (two chosen for any text)
    together = [Phrases(tuple(fold_pattern(p) for p in patterns)) for patterns in pattern_sets]
    alone = [Phrases(tuple(fold_pattern(p) for p in patterns)) for patterns in pattern_sets]
    Chooser(together)
    for text in _texts():
        for a, b in zip(together, alone):
            got, want = a.for_text(grams(text)), b.for_text(grams(text))
            for pos in (0, len(text) // 2):
                got_at = got.search(text, pos) if got is not None else None
                want_at = want.search(text, pos) if want is not None else None
                assert (got_at and got_at.span()) == (want_at and want_at.span()), (text[:80], pos)
    text = fold(normalize("Please pass this on to Zqvjxk Wyqqo, our buyer"))
    pieces = grams(text)
    together[0].for_text(pieces)  # the chooser's choices made for the text, then a set made
    later = Phrases(("zqvjxk wyqqo", "our buyer"))
    Chooser([later, together[0]])
    found = later.for_text(pieces)
    assert found is not None and found.search(text).group(0) == "zqvjxk wyqqo"


def test_a_wording_met_once_compiles_no_alternation():
    """Replies of different wording choose different phrases: compiling each choice costs more
    than varied replies pay back (and kept every compiled one). A choice is searched phrase by
    phrase until it has been met ``COMPILE_AT`` times; it is compiled then, and kept. (Told by
    what is handed back, not by counting calls: compiled by mypyc, the class's own calls cannot
    be intercepted.)"""
    phrases = Phrases(tuple(fold_pattern(p) for p in default_rules().intents["interested"]))
    text = fold(normalize("Sounds interesting, can you send the pricing for a team of 12?"))
    want = phrases.full.search(text).span()
    for _ in range(COMPILE_AT - 1):
        each = phrases.for_text(grams(text))
        assert each is not None and not isinstance(each, re.Pattern)
        assert each.search(text).span() == want
    chosen = phrases.for_text(grams(text))
    assert isinstance(chosen, re.Pattern) and chosen is not phrases.full
    assert len(chosen.pattern) < len(phrases.full.pattern)
    assert phrases.for_text(grams(text)) is chosen
    assert chosen.search(text).span() == want


def test_phrases_searched_one_by_one_find_what_their_alternation_finds():
    """A choice searched phrase by phrase finds what its alternation finds: the leftmost match,
    and of two starting at the same place the earlier phrase's (the alternation tries its phrases
    in order there), however long the later one's match."""
    for patterns, text in [(("interest", "interested", "pricing", "unsubscribe"), "very interested in pricing"),
                           (("interested", "interest", "pricing", "unsubscribe"), "very interested in pricing"),
                           (("pricing", "interest(?:ed)?", "send", "unsubscribe"), "please send pricing if interested"),
                           (("x?yes", "yes", "zzz"), "ayes yes"),
                           # taken apart at its alternation: of its branches matching at one place, the first's
                           (("(?:ya|ya sure)", "zzz"), "oh ya sure")]:
        phrases = Phrases(patterns)
        each = phrases.for_text(grams(text))
        assert each is not None and not isinstance(each, re.Pattern), patterns
        for pos in range(len(text) + 1):
            want, got = phrases.full.search(text, pos), each.search(text, pos)
            assert (want and want.span()) == (got and got.span()), (patterns, pos)


def test_a_phrase_set_made_after_a_text_was_cut_finds_its_phrases_in_it():
    """A text's pieces are narrowed once to those that some phrase set indexes. A phrase set made
    later (another rule set, read on its first use) indexes pieces of its own: it finds its
    phrases in a text whose pieces were cut and narrowed before it was made."""
    text = fold(normalize("Please pass this on to Qvjxzk Wyqq, our buyer"))
    pieces = grams(text)
    first = Phrases(("please", "our buyer"))
    found = first.for_text(pieces)
    assert found is not None and found.search(text).group(0) == "please"
    later = Phrases(("qvjxzk wyqq",))
    found = later.for_text(pieces)
    assert found is not None and found.search(text).group(0) == "qvjxzk wyqq"


def test_a_chosen_alternation_is_searched_only_where_its_phrases_can_start():
    """The phrases chosen for a text are searched behind a look at the next character for the
    ones they begin with: the regex engine then skips every other place of the reply without
    trying a phrase there. Same match as the whole alternation."""
    phrases = Phrases(tuple(fold_pattern(p) for p in default_rules().intents["interested"]))
    text = fold(normalize("Sounds interesting, can you send the pricing for a team of 12?"))
    for _ in range(COMPILE_AT):
        chosen = phrases.for_text(grams(text))
    assert isinstance(chosen, re.Pattern) and chosen is not phrases.full
    look = re.match(r"\(\?=\[([^\]]+)\]\)", chosen.pattern)
    assert look is not None, chosen.pattern[:80]
    assert "s" in look.group(1) and len(look.group(1)) < 20  # "sounds …" among a few first letters
    assert chosen.search(text).span() == phrases.full.search(text).span()
    # a phrase that may begin with any character leaves the look out: it could miss that one
    anywhere = Phrases(("sounds good", r"\w+ interest", "pricing"))
    both = "sounds good, a real interest"
    for _ in range(COMPILE_AT):
        narrowed = anywhere.for_text(grams(both))
    assert narrowed is not None and narrowed is not anywhere.full and not narrowed.pattern.startswith("(?=[")
    assert narrowed.search(both).span() == anywhere.full.search(both).span()


def test_the_bounce_scan_names_what_flufl_bounce_names():
    messages = {**corpus_messages(), **fixture_messages()}
    for name, raw in messages.items():
        msg = message_from_raw(raw)
        try:
            want = flufl_all_failures(msg)
        except Exception as exc:
            with pytest.raises(type(exc)):
                all_failures(msg)
            continue
        assert all_failures(msg) == want, name


OTHER_FLUFL = {
    # a later release: its detectors may read otherwise than the ones the quick scan follows
    "another release": "import flufl.bounce; flufl.bounce.__version__ = '7.0'",
    # one more detector (it finds nobody): the quick scan would not run it
    "another detector": "from flufl.bounce import _scan; _scan._DETECTORS.append(type('Extra', (), "
                        "{'process': lambda self, msg: (frozenset(), frozenset())}))",
    # a release without a private module the quick scan imports
    "a private module gone": "import flufl.bounce; sys.modules['flufl.bounce._detectors.simplematch'] = None",
}
"""What app.mail finds of flufl.bounce in place of the release its quick scan follows."""

_UNDER_OTHER_FLUFL = """
import json, sys
{setup}
import flufl.bounce
from app.mail import bounce
from tests.test_mail_unchanged import _compare, fixture_messages
quick = bounce.all_failures is not flufl.bounce.all_failures  # the scan bounces are read with
messages = {{name: raw for name, raw in fixture_messages().items() if "bounces/" in name}}
print(json.dumps({{"quick": quick, "bounces": len(messages),
                  "differ": _compare(messages, "plain") + _compare(messages, "context")}}))
"""


@pytest.mark.parametrize("other", ["the release followed", *sorted(OTHER_FLUFL)])
def test_another_flufl_bounce_gives_the_same_bounce_readings(other):
    """The quick scan reads flufl.bounce's private names as release 6 has them: with another
    release, another list of detectors, or a private module gone, flufl.bounce's own scan reads
    the bounces (nothing fails to import) and every bounce's reading is as recorded."""
    code = _UNDER_OTHER_FLUFL.format(setup=OTHER_FLUFL.get(other, ""))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["quick"] is (other == "the release followed")
    assert result["bounces"] > 20
    assert result["differ"] == []


OTHER_PARSERS = {
    # a Python without the private module
    "missing": "del re._parser; sys.modules['re._parser'] = None",
    # one whose parse result has another shape (no .state)
    "reshaped": "re._parser = types.SimpleNamespace("
                "parse=lambda p, flags=0: types.SimpleNamespace(data=real_parser.parse(p, flags).data))",
    # one whose operation codes are other objects
    "renumbered": "re._constants = types.SimpleNamespace(LITERAL=object(), SUBPATTERN=object(), "
                  "BRANCH=object(), MAX_REPEAT=object(), MIN_REPEAT=object())",
}
"""What app.mail.phrases finds in place of re._parser and re._constants when it is imported (the
real modules are put back right after, for the rest of the re package)."""

_UNDER_OTHER_PARSER = """
import json, re, sys, types
real_parser, real_constants = re._parser, re._constants
{setup}
from app.mail.phrases import Phrases, grams
re._parser, re._constants = real_parser, real_constants
sys.modules["re._parser"], sys.modules["re._constants"] = real_parser, real_constants
from app.mail.folding import fold_pattern
from app.mail.rules import default_rules
from tests.test_mail_unchanged import _compare, fixture_messages
rules = default_rules()
phrases = Phrases(tuple(fold_pattern(p) for p in rules.intents["interested"]))
messages = fixture_messages()
print(json.dumps({{"whole": phrases.for_text(grams("zzzz")) is phrases.full,
                  "differ": _compare(messages, "plain") + _compare(messages, "context")}}))
"""


@pytest.mark.parametrize("parser", sorted(OTHER_PARSERS))
def test_another_pythons_regex_parser_gives_the_same_classifications(parser):
    """re._parser is private: where it is missing or reads otherwise, every phrase is searched
    (nothing is left out on a guess) and every classification is as recorded."""
    code = _UNDER_OTHER_PARSER.format(setup=OTHER_PARSERS[parser])
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["whole"] is True
    assert result["differ"] == []


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="the phrase readings lean on CPython's regex parser")
def test_the_phrase_readings_are_trusted_on_the_python_replydesk_runs_on():
    """Where the regex parser does not read the known patterns as expected, nothing is narrowed
    or skipped (the same answers, several times slower): on CPython it must read them."""
    from app.mail import phrases

    assert phrases.TRUSTED


def test_readings_of_patterns_taken_one_after_another_are_each_their_own():
    """A phrase's parse is handed out again to the next reading of the same phrase, never to a
    reading of another."""
    from app.mail.phrases import skips_to_start

    led, optional = "[ab]cd", "(?:very )?interest(?:ed|ing)"
    for _ in range(2):
        assert required_run(optional) == "interest"
        assert skips_to_start(led)
        assert not skips_to_start(optional)
        assert required_run(led) == "cd"
