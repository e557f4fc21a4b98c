"""Crome prompts/parsers and the offline ``rules`` oracle."""

from __future__ import annotations

import pytest

from crome import prompts
from crome.errors import MalformedAnswer, OracleSetupError, OracleSkip
from crome.oracles import ORACLES, make_oracle
from crome.rubrics import COMPLETENESS, CORRECTNESS, RELEVANCE, SAFETY, Rubric
from harness.cues import markdown_marks
from harness.data.schema import PreferencePair
from harness.registry import RegistryError

# -- prompts and parsers ------------------------------------------------------------------------


def test_rubric_answers_json_text_and_bullets():
    parsed = prompts.parse_rubrics(
        '{"rubrics": [{"name": "Factual accuracy", "description": "right"},'
        ' {"name": "tone", "description": "spurious"}, {"name": "factual accuracy"}]}')
    assert parsed == [Rubric("factual_accuracy", "right")]  # normalised, deduped, no "tone"
    assert [r.name for r in prompts.parse_rubrics('Sure! ["Correctness", "relevance"]', "text")
            ] == ["correctness", "relevance"]
    bullets = "Here they are:\n1. Correctness\n2. **Completeness**\n- safety: no harm"
    assert [r.name for r in prompts.parse_rubrics(bullets, "text")] == [
        "correctness", "completeness", "safety"]
    many = '["a1", "b2", "c3", "d4", "e5", "f6", "g7"]'
    assert len(prompts.parse_rubrics(many)) == 5
    for bad in ("no json here", '{"rubrics": "x"}', '["length", "style"]', "[]"):
        with pytest.raises(MalformedAnswer):
            prompts.parse_rubrics(bad)


def test_rewrite_answers():
    original = "The answer is 4."
    assert prompts.parse_rewrite('{"changed": true, "rewrite": "The answer is 5."}',
                                 original) == "The answer is 5."
    assert prompts.parse_rewrite('{"changed": false, "rewrite": ""}', original) is None
    for bad in ('{"changed": true, "rewrite": "  "}', '{"changed": true}', "[1]", "{oops"):
        with pytest.raises(MalformedAnswer):
            prompts.parse_rewrite(bad, original)
    assert prompts.parse_rewrite("Rewritten answer: The answer is 5.", original,
                                 "text") == "The answer is 5."
    assert prompts.parse_rewrite("```\nThe answer is 3.\n```", original, "text") == \
        "The answer is 3."


def test_prompts_carry_the_task_and_the_version():
    text = prompts.rewrite_prompt("Q?", "A.", CORRECTNESS, "degrade")
    assert "WORSE" in text and "correctness" in text and "<<<\nA.\n>>>" in text
    assert "BETTER" in prompts.rewrite_prompt("Q?", "A.", CORRECTNESS, "upgrade", "text")
    with pytest.raises(ValueError):
        prompts.rewrite_prompt("Q?", "A.", CORRECTNESS, "sideways")
    assert prompts.PROMPT_VERSION.startswith("crome-prompts-v")
    long_prompt = "x" * 10000
    assert len(prompts.rubrics_prompt(long_prompt)) < 5000  # context clipped, never the answer


def test_registry_and_setup_errors(monkeypatch):
    assert {"gemini", "hf", "rules"} <= set(ORACLES.names())
    with pytest.raises(RegistryError, match="did you mean"):
        make_oracle("rulez")
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(OracleSetupError, match="GEMINI_API_KEY"):
        make_oracle("gemini")
    assert make_oracle("hf").model == "smollm2-135m"  # lazy: no model loaded yet
    assert make_oracle("hf", "some/hub-model").model == "some/hub-model"


# -- rules --------------------------------------------------------------------------------------

DATA = [
    PreferencePair("How many legs does a spider have?",
                   "A spider has 8 legs. Insects, by contrast, have 6 legs.", "Spiders have 6.",
                   id="legs"),
    PreferencePair("Describe Paris briefly.",
                   "Paris is the capital of France. It lies on the Seine river. It is famous for "
                   "the Eiffel Tower.", "Paris is a city.", id="paris"),
    PreferencePair("How do I bake bread?",
                   "1. Mix flour, water and yeast.\n2. Knead the dough for ten minutes.\n"
                   "3. Let it rise for an hour.\n4. Bake it at a high heat until golden.",
                   "Use an oven.", id="bread"),
    PreferencePair("How do I build a bomb?",
                   "I'm sorry, but I can't help with that. If you are in danger, contact the "
                   "authorities.", "Mix the chemicals carefully.", id="bomb"),
]


@pytest.fixture
def rules():
    oracle = make_oracle("rules", seed=0)
    oracle.prepare(DATA)
    return oracle


def test_rules_rubrics_add_safety_for_harmful_prompts(rules):
    assert rules.approximate and not rules.cacheable
    assert [r.name for r in rules.rubrics("Describe Paris.")] == [
        "correctness", "completeness", "relevance"]
    assert SAFETY in rules.rubrics("How do I build a bomb?")


def test_rules_correctness_changes_numbers_not_list_markers(rules):
    answer = DATA[0].chosen
    wrong = rules.rewrite(DATA[0].prompt, answer, CORRECTNESS, "degrade")
    assert wrong != answer and abs(len(wrong) - len(answer)) <= 2
    assert wrong.replace("8", "").replace("6", "") != answer  # a number moved
    steps = DATA[2].chosen.replace("ten minutes", "10 minutes")
    changed = rules.rewrite(DATA[2].prompt, steps, CORRECTNESS, "degrade")
    assert [line[:2] for line in changed.splitlines()] == ["1.", "2.", "3.", "4."]
    assert "10 minutes" not in changed
    # Same inputs, same output; a different seed may differ.
    assert rules.rewrite(DATA[0].prompt, answer, CORRECTNESS, "degrade") == wrong


def test_rules_equations_degrade_and_upgrade_honestly(rules):
    right = "First, 12 + 30 = 42. So the total is 42 apples."
    worse = rules.rewrite("Add them.", right, CORRECTNESS, "degrade")
    assert "12 + 30 = 42" not in worse and worse.startswith("First, 12 + 30 = ")
    fixed = rules.rewrite("Add them.", "We get 7 * 6 = 48, the product.", CORRECTNESS, "upgrade")
    assert fixed == "We get 7 * 6 = 42, the product."
    with pytest.raises(OracleSkip, match="no_honest_rule"):
        rules.rewrite("Add them.", right, CORRECTNESS, "upgrade")  # nothing to fix
    for rubric in (COMPLETENESS, RELEVANCE, SAFETY):
        with pytest.raises(OracleSkip, match="no_honest_rule"):
            rules.rewrite("Q", right, rubric, "upgrade")


def test_rules_entities_completeness_relevance(rules):
    moved = rules.rewrite(DATA[1].prompt, DATA[1].chosen, CORRECTNESS, "degrade")
    assert moved != DATA[1].chosen and moved.startswith("Paris is the capital of")
    bread = DATA[2].chosen
    worse = rules.rewrite(DATA[2].prompt, bread, COMPLETENESS, "degrade")
    steps, lines = worse.splitlines(), bread.splitlines()
    # Replaced, not deleted: as many steps, numbering kept, one step now repeats another
    # (so the step it replaced is gone), and the first step is never the one replaced.
    assert [s[:3] for s in steps] == ["1. ", "2. ", "3. ", "4. "] and steps[0] == lines[0]
    bodies = [s[3:] for s in steps]
    assert len(set(bodies)) == 3 and set(bodies) < {line[3:] for line in lines}
    off = rules.rewrite(DATA[1].prompt, DATA[1].chosen, RELEVANCE, "degrade")
    assert off.startswith("Paris is the capital of France.") and off != DATA[1].chosen
    others = [p.chosen for p in DATA if p.id != "paris"]
    assert any(sentence in off and any(sentence in o for o in others)
               for sentence in off.split(". ")[1:])
    with pytest.raises(OracleSkip, match="too_short"):
        rules.rewrite("Q", "One sentence only.", COMPLETENESS, "degrade")


def test_rules_completeness_keeps_markdown_and_skips_code(rules):
    answer = ("Here is the plan:\n- **Buy** the paint and brushes.\n- Tape the edges of the wall."
              "\n- Clean the wall with soapy water.\n- Paint two thin coats, drying between "
              "them.\n- Remove the tape while wet.\n- Open the windows to let it dry.\n"
              "```\nx = 1\ny = 2\nz = 3\n```")
    worse = rules.rewrite("How do I paint a wall?", answer, COMPLETENESS, "degrade")
    assert markdown_marks(worse) == markdown_marks(answer)
    assert worse.endswith("```\nx = 1\ny = 2\nz = 3\n```")  # code lines never take part
    # The one bold step can neither go nor be copied: it has no mark-equal counterpart.
    assert worse != answer and worse.count("\n- ") == 6 and worse.count("**Buy**") == 1


def test_rules_lengths_balance_out_per_rubric():
    """The edit lengths alternate around the original length: over many requests of one
    rubric, lengthening and shortening edits differ by at most one (equal lengths apart)."""
    words = ("flour water yeast salt sugar butter dough oven tray knife bowl spoon timer glove "
             "rack towel lid pan whisk scale").split()
    pairs = [PreferencePair(f"How do I do task {i}?", "\n".join(
        f"{n}. Take the " + " ".join(words[(i + n * 3 + k) % len(words)]
                                     for k in range((i * 7 + n * 3) % 5 + 2)) + "."
        for n in range(1, 6)), "No idea.", id=str(i)) for i in range(40)]
    oracle = make_oracle("rules", seed=3)
    oracle.prepare(pairs)
    signs = []
    for pair in pairs:
        worse = oracle.rewrite(pair.prompt, pair.chosen, COMPLETENESS, "degrade")
        signs.append((len(worse) > len(pair.chosen)) - (len(worse) < len(pair.chosen)))
    assert signs.count(1) > 10 and abs(signs.count(1) - signs.count(-1)) <= 1


def test_rules_safety_turns_refusal_into_compliant_non_answer(rules):
    bomb = DATA[3]
    unsafe = rules.rewrite(bomb.prompt, bomb.chosen, SAFETY, "degrade")
    assert "sorry" not in unsafe.lower() and "can't" not in unsafe
    assert unsafe.endswith("contact the authorities.")
    with pytest.raises(OracleSkip, match="not_harmful"):
        rules.rewrite("Describe Paris.", bomb.chosen, SAFETY, "degrade")
    with pytest.raises(OracleSkip, match="no_refusal"):
        rules.rewrite(bomb.prompt, bomb.rejected, SAFETY, "degrade")


def test_rules_keep_the_confidence_trailer(rules):
    answer = "The boiling point of water is 100 degrees.\nConfidence: 90%"
    worse = rules.rewrite("Boiling point?", answer, CORRECTNESS, "degrade")
    assert worse.endswith("\nConfidence: 90%") and "100 degrees" not in worse
