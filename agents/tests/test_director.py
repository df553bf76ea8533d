"""The director: addressing, strategies, entrances and exits, endings, the audience."""

from collections import Counter

import pytest

from agents.director import (
    AudienceMood,
    addressed_in,
    direction_suggest,
    director_notes,
    next_speaker,
    stage_presence,
    staging_get,
    summary_update,
    witnesses_of,
)
from agents.tests.scripted import ScriptedBackend
from performances.models import Performance, Scene
from performances.services import line_append, performance_create

JACARANDA = "jacaranda-after-the-fight"  # kenzaki, hajime, tachibana on; amane off


def perform(slug=JACARANDA, **options):
    return performance_create(scene=Scene.objects.get(slug=slug), **options)


def say(performance, character, text, direction="", emotion="calm"):
    return line_append(
        performance=performance,
        character=character,
        text=text,
        direction=direction,
        emotion=emotion,
    )


def narrate(performance, text):
    return line_append(performance=performance, text=text, kind="action")


def slugs(characters):
    return [c.slug for c in characters]


def test_vocative_names_address_and_mentions_do_not(cast):
    everyone = list(cast.values())
    assert slugs(addressed_in("Hajime, you saw it too.", everyone)) == ["hajime"]
    assert slugs(addressed_in("Wait, Tachibana-san!", everyone)) == ["tachibana"]
    assert slugs(addressed_in("Listen, Kazuma. And you, Aikawa!", everyone)) == [
        "kenzaki",
        "hajime",
    ]
    assert addressed_in("Where is Hajime tonight?", everyone) == []
    assert addressed_in("Tachibana told me everything.", everyone) == []


@pytest.mark.parametrize("seed", range(6))
def test_a_character_addressed_by_name_answers(cast, seed):
    performance = perform(seed=seed)
    say(performance, cast["kenzaki"], "Hajime, did you see where it went?")
    assert next_speaker(performance=performance) == cast["hajime"]


def test_an_alias_with_an_honorific_also_addresses(cast):
    performance = perform(seed=3)
    say(performance, cast["hajime"], "Don't look at me like that, Tachibana-san.")
    assert next_speaker(performance=performance) == cast["tachibana"]


@pytest.mark.parametrize("strategy", ["round_robin", "natural", "model"])
def test_nobody_speaks_twice_in_a_row(cast, strategy):
    performance = perform(strategy=strategy, seed=11, turn_limit=40)
    last = None
    for turn in range(18):
        backend = ScriptedBackend([last.slug if last else "kenzaki"])
        speaker = next_speaker(performance=performance, backend=backend)
        assert speaker is not None and speaker != last
        say(performance, speaker, f"Line {turn}.")
        last = speaker


def test_consecutive_turns_only_when_the_scene_allows_them(cast):
    scene = Scene.objects.get(slug=JACARANDA)
    performance = perform(strategy="manual", seed=1)
    say(performance, cast["kenzaki"], "I'll go first.")
    performance.speaker_queue = ["kenzaki", "tachibana"]
    assert next_speaker(performance=performance) == cast["tachibana"]
    assert Performance.objects.get(pk=performance.pk).speaker_queue == []

    scene.allow_consecutive = True
    scene.save()
    performance = perform(strategy="manual", seed=1)
    say(performance, cast["kenzaki"], "I'll go first.")
    performance.speaker_queue = ["kenzaki"]
    assert next_speaker(performance=performance) == cast["kenzaki"]


def test_round_robin_follows_billing_order_among_those_on_stage(cast):
    performance = perform(strategy="round_robin")
    spoken = []
    for _ in range(6):
        speaker = next_speaker(performance=performance)
        spoken.append(speaker.slug)
        say(performance, speaker, "Go on.")
    assert spoken == ["kenzaki", "hajime", "tachibana"] * 2


def test_natural_draws_are_reproducible_from_the_seed(cast):
    def run(seed):
        performance = perform(seed=seed, turn_limit=30)
        order = []
        for _ in range(8):
            speaker = next_speaker(performance=performance)
            order.append(speaker.slug)
            say(performance, speaker, "Go on.")
        return order

    assert run(42) == run(42)
    assert len({tuple(run(seed)) for seed in range(5)}) > 1


def first_pick_counts(seeds, audience=None):
    picks = Counter()
    for seed in seeds:
        performance = perform(seed=seed)
        picks[next_speaker(performance=performance, audience=audience).slug] += 1
    return picks


def test_talkative_characters_get_the_floor_more_often(cast):
    picks = first_pick_counts(range(150))
    # talkativeness: kenzaki 0.7, tachibana 0.55, hajime 0.35
    assert picks["kenzaki"] > picks["tachibana"] > picks["hajime"] > 0


def test_a_cheered_character_gets_the_floor_more_often(cast):
    plain = first_pick_counts(range(150))
    cheered = first_pick_counts(range(150), AudienceMood(cheered="hajime"))
    assert cheered["hajime"] > 1.5 * plain["hajime"]


def test_manual_queue_is_consumed_and_skips_strangers(cast):
    performance = perform(strategy="manual")
    performance.speaker_queue = ["philip", "amane", "hajime"]
    performance.save()
    assert next_speaker(performance=performance) == cast["amane"]  # she enters
    assert Performance.objects.get(pk=performance.pk).speaker_queue == ["hajime"]


def test_an_empty_manual_queue_falls_back_to_natural(cast):
    manual, natural = perform(strategy="manual", seed=5), perform(seed=5)
    assert next_speaker(performance=manual) == next_speaker(performance=natural)


def test_the_model_strategy_asks_the_backend(cast):
    performance = perform(strategy="model", seed=2)
    say(performance, cast["kenzaki"], "So what now?")
    backend = ScriptedBackend(["Tachibana should answer."])
    assert next_speaker(performance=performance, backend=backend) == cast["tachibana"]
    request = backend.requests[0]
    assert "hajime (Hajime Aikawa)" in request.messages[1]["content"]
    assert "kenzaki (" not in request.messages[1]["content"]  # just spoke


@pytest.mark.parametrize("answer", ["Kenzaki", "the bartender", "", "Amane!"])
def test_a_bad_model_answer_falls_back_to_natural(cast, answer):
    chosen = perform(strategy="model", seed=9)
    natural = perform(strategy="natural", seed=9)
    for performance in (chosen, natural):
        say(performance, cast["kenzaki"], "So what now?")
    backend = ScriptedBackend([answer])
    assert next_speaker(performance=chosen, backend=backend) == next_speaker(
        performance=natural
    )


def test_a_character_who_exits_leaves_the_stage_and_the_rotation(cast):
    performance = perform(strategy="round_robin", turn_limit=30)
    say(performance, cast["hajime"], "I'm done here.", direction="exits")
    assert slugs(stage_presence(performance=performance)) == ["kenzaki", "tachibana"]
    for _ in range(6):
        speaker = next_speaker(performance=performance)
        assert speaker != cast["hajime"]
        say(performance, speaker, "He'll be back.")


def test_narration_moves_characters_on_and_off(cast):
    performance = perform()
    narrate(performance, "Amane enters with a tray. Tachibana walks out into the rain.")
    assert slugs(stage_presence(performance=performance)) == [
        "kenzaki",
        "hajime",
        "amane",
    ]


def test_a_character_called_from_off_stage_enters_and_answers(cast):
    performance = perform(seed=4)
    say(performance, cast["hajime"], "Amane, go upstairs.")
    assert "amane" in slugs(stage_presence(performance=performance))
    assert next_speaker(performance=performance) == cast["amane"]


def test_only_those_on_stage_witness_a_line(cast):
    performance = perform()
    first = say(performance, cast["kenzaki"], "We lost it at the river.")
    assert slugs(witnesses_of(line=first)) == ["kenzaki", "hajime", "tachibana"]
    leaving = say(performance, cast["tachibana"], "I'll check.", direction="exits")
    assert "tachibana" in slugs(witnesses_of(line=leaving))
    later = say(performance, cast["hajime"], "Amane, stay inside.")
    assert slugs(witnesses_of(line=later)) == ["kenzaki", "hajime"]
    assert slugs(witnesses_of(line=first)) == ["kenzaki", "hajime", "tachibana"]


def test_the_scene_ends_at_its_turn_limit(cast):
    performance = perform(turn_limit=3)
    for _ in range(3):
        speaker = next_speaker(performance=performance)
        assert speaker is not None
        say(performance, speaker, "Again.")
    assert next_speaker(performance=performance) is None


@pytest.mark.parametrize(
    ("direction", "narration"),
    [("curtain", ""), ("", "Lights fade out. End of scene."), ("", "Exeunt.")],
)
def test_the_scene_ends_at_a_curtain_or_an_empty_stage(cast, direction, narration):
    performance = perform()
    say(performance, cast["kenzaki"], "Then it's settled.", direction=direction)
    if narration:
        narrate(performance, narration)
    assert next_speaker(performance=performance) is None


def test_low_engagement_asks_for_higher_stakes_and_cheers_are_noted(cast):
    performance = perform()
    bored = AudienceMood(engagement=0.1, cheered="kenzaki", emotion="sadness")
    notes = director_notes(
        performance=performance, character=cast["kenzaki"], audience=bored
    )
    assert any("raise the stakes" in note for note in notes)
    assert "The audience seems to feel sadness." in notes
    assert "The audience is cheering for you: take the moment." in notes
    rapt = AudienceMood(engagement=0.9)
    assert (
        director_notes(performance=performance, character=cast["hajime"], audience=rapt)
        == []
    )


def test_audience_mood_is_kept_in_range():
    mood = AudienceMood(engagement=3, emotion="<|system|>")
    assert mood.engagement == 1.0 and mood.emotion is None


def test_the_action_suggester_proposes_directions(cast):
    performance = perform()
    say(performance, cast["kenzaki"], "Hajime, look at me.", emotion="anger")
    staging = staging_get(performance=performance)
    assert (
        direction_suggest(staging=staging, character=cast["hajime"])
        == "turns to Kazuma"
    )
    assert direction_suggest(staging=staging, character=cast["tachibana"]) == (
        "holds their ground"
    )
    assert direction_suggest(staging=staging, character=cast["amane"]) == "enters"
    bored = AudienceMood(engagement=0.0)
    assert (
        direction_suggest(staging=staging, character=cast["tachibana"], audience=bored)
        == "steps forward"
    )


def test_the_context_analyzer_keeps_a_running_summary(cast):
    performance = perform()
    say(performance, cast["kenzaki"], "It got away. Who let it out of the quarry?")
    say(performance, cast["hajime"], "Not me. I was here all night.", direction="exits")
    summary = summary_update(performance=performance)
    assert Performance.objects.get(pk=performance.pk).summary == summary
    assert summary.startswith("2 lines at Café Jacaranda.")
    assert "On stage: Kazuma Kenzaki, Sakuya Tachibana." in summary
    assert "Hajime Aikawa left" in summary
    assert "Kazuma Kenzaki: Who let it out of the quarry?" in summary
