"""`manage.py perform`: a performance run and printed live in the terminal."""

from io import StringIO

import pytest
from django.core.management import CommandError, ManagementUtility, call_command

from agents import memory as memory_module
from agents.minds import backend_cache_clear
from agents.models import Memory
from agents.promptbook import EMOTIONS
from agents.tests.scripted import hash_embed, quick_stage_model
from performances.models import Performance

JACARANDA = "jacaranda-after-the-fight"
SCRIPTED = "agents.tests.scripted.ScriptedBackend"


@pytest.fixture(autouse=True)
def quick_memories(monkeypatch):
    monkeypatch.setattr(memory_module, "_embedder", hash_embed)
    backend_cache_clear()
    yield
    backend_cache_clear()


def use_backends(settings, **options):
    settings.STAGEPLAY = {**settings.STAGEPLAY, "BACKEND_OPTIONS": options}


def perform(*args, **options):
    out = StringIO()
    call_command("perform", *args, stdout=out, **options)
    return out.getvalue()


def test_a_tiny_stage_model_performs_a_scene_end_to_end(cast, settings):
    use_backends(settings, embedded={"path": str(quick_stage_model())})
    output = perform(JACARANDA, "--turns", "3", "--seed", "7", "--backend", "embedded")
    performance = Performance.objects.get()
    assert performance.status == "finished" and performance.backend == "embedded"
    assert performance.seed == 7 and performance.started_at and performance.finished_at
    lines = list(performance.lines.order_by("index"))
    assert [line.index for line in lines] == [0, 1, 2]
    for line in lines:
        assert line.text and line.emotion in EMOTIONS and line.tokens > 0
        assert f"{line.speaker_name.upper()} [{line.emotion}]" in output
    assert all(
        a.character != b.character for a, b in zip(lines, lines[1:], strict=False)
    )
    assert Memory.objects.filter(performance=performance, kind="summary").exists()
    assert performance.summary.startswith("3 lines at Café Jacaranda.")
    assert output.rstrip().endswith(
        f"Curtain. 3 lines; performance #{performance.pk} finished."
    )


def test_lines_are_printed_with_emotion_direction_and_streamed_text(cast, settings):
    outputs = [
        "[anger] (slams the counter) Not again, Kenzaki!",
        "Then we search the quarry.",
        "[calm] (sits) Fine.\nHAJIME: something else",
    ]
    use_backends(settings, **{SCRIPTED: {"outputs": outputs}})
    output = perform(JACARANDA, "--turns", "3", "--backend", SCRIPTED, "--seed", "1")
    lines = list(Performance.objects.get().lines.order_by("index"))
    printed = [row for row in output.splitlines() if ": " in row and row[0].isupper()]
    assert (
        printed[0]
        == f"{lines[0].speaker_name.upper()} [anger] (slams the counter): Not again, Kenzaki!"
    )
    assert printed[1] == (
        f"{lines[1].speaker_name.upper()}: Then we search the quarry.  [determination]"
    )
    assert printed[2] == f"{lines[2].speaker_name.upper()} [calm] (sits): Fine."
    assert "something else" not in output


def test_a_failing_backend_fails_the_performance_with_its_reason(cast, settings):
    use_backends(settings, embedded={"path": "/nonexistent/stage_model"})
    with pytest.raises(CommandError, match=r"failed: The stage model is missing"):
        perform(JACARANDA, "--backend", "embedded")
    performance = Performance.objects.get()
    assert performance.status == "failed"
    assert "The stage model is missing at /nonexistent/stage_model" in (
        performance.failure_reason
    )
    assert not performance.lines.exists()


def test_bad_model_output_fails_the_performance_clearly(cast, settings):
    use_backends(settings, **{SCRIPTED: {"outputs": ["[joy] (shrugs)"]}})
    with pytest.raises(CommandError, match="no spoken text in 3 attempts"):
        perform(JACARANDA, "--backend", SCRIPTED)
    assert Performance.objects.get().status == "failed"


def test_an_unknown_scene_names_the_scenes_and_creates_nothing(cast):
    with pytest.raises(
        CommandError, match=f"No scene 'nope'; choose one of: .*{JACARANDA}"
    ):
        perform("nope")
    assert not Performance.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--turns", "0"], "--turns must be from 1 to 500"), (["--seed", "-1"], "--seed")],
)
def test_bad_options_are_refused(cast, args, message):
    with pytest.raises(CommandError, match=message):
        perform(JACARANDA, *args)
    assert not Performance.objects.exists()


def test_errors_go_to_stderr_with_a_non_zero_exit(cast, capsys):
    with pytest.raises(SystemExit) as exc:
        ManagementUtility(["manage.py", "perform", "nope"]).execute()
    assert exc.value.code == 1
    assert "No scene 'nope'" in capsys.readouterr().err
