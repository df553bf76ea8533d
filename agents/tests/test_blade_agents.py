"""The user guide's script, line by line, through `blade_agents` at the project root."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import blade_agents
from agents.council import BladeAgentSystem as CouncilSystem
from agents.minds import backend_cache_clear
from agents.models import Character
from agents.tests.scripted import quick_chat_model

ROOT = Path(__file__).resolve().parents[2]
SCRIPTED = "agents.tests.scripted.ScriptedBackend"
GUIDE_SCRIPT = """
from blade_agents import BladeAgentSystem
system = BladeAgentSystem()
system.initialize()
system.set_task("How to improve internal communication efficiency in the company?")
decision = system.activate_agent("kazuki")
analysis = system.activate_agent("tachibana")
intel = system.activate_agent("aikawa")
coordination = system.activate_agent("mutsuki")
final_solution = system.synthesize_solutions()
system.customize_agent("kazuki", risk_tolerance=0.8)
system.customize_agent("tachibana", analysis_depth="high")
system.add_new_capability("aikawa", "social_media_analysis")
system.create_new_agent("hirose", role="technical_expert")
"""


@pytest.fixture
def scripted(settings):
    backend_cache_clear()
    outputs = [
        "[determination] We decide now: one channel for every team.",
        "[calm] The risk is noise; measure replies for a month.",
        "[calm] Requests vanish in private chats, I checked.",
        "[joy] Ask each team who feels unheard.",
        "[determination] Hirose: I can build the tracker tonight.",
    ]
    settings.STAGEPLAY = {
        **settings.STAGEPLAY,
        "BACKEND": SCRIPTED,
        "BACKEND_OPTIONS": {SCRIPTED: {"outputs": outputs}},
    }
    yield
    backend_cache_clear()


def test_blade_agents_re_exports_the_council():
    assert blade_agents.BladeAgentSystem is CouncilSystem
    assert issubclass(blade_agents.BladeAgentError, ValueError)


def test_every_line_of_the_user_guide_script(cast, scripted):
    scope = {}
    exec(GUIDE_SCRIPT, scope)  # the user guide's code, verbatim
    system = scope["system"]
    assert scope["decision"] == "We decide now: one channel for every team."
    assert scope["analysis"] == "The risk is noise; measure replies for a month."
    assert scope["intel"] == "Requests vanish in private chats, I checked."
    assert scope["coordination"] == "Ask each team who feels unheard."
    for answer in ("one channel for every team", "measure replies", "private chats"):
        assert answer in scope["final_solution"]
    assert "Ask each team who feels unheard." in scope["final_solution"]
    kenzaki, tachibana, hajime = (
        Character.objects.get(slug=s) for s in ("kenzaki", "tachibana", "hajime")
    )
    assert kenzaki.risk_tolerance == 0.8
    assert tachibana.analysis_depth == "high"
    assert "social_media_analysis" in hajime.capabilities
    assert system.agents == ["kazuki", "tachibana", "aikawa", "mutsuki", "hirose"]
    system.set_task("How should the company handle a public relations crisis?")
    assert system.activate_agent("hirose").startswith("I can build the tracker")


def test_every_error_the_script_can_meet(cast, scripted):
    system = blade_agents.BladeAgentSystem()
    system.initialize()
    errors = [
        (lambda: system.activate_agent("kazuki"), "Set a task before activating"),
        (lambda: system.synthesize_solutions(), "Set a task and activate agents"),
        (lambda: system.set_task(""), "The task must be a non-empty question"),
        (lambda: system.activate_agent("philip"), "choose one of: kazuki, tachibana"),
        (
            lambda: system.customize_agent("kazuki", risk_tolerance=1.8),
            "risk_tolerance must be a number from 0",
        ),
        (
            lambda: system.customize_agent("tachibana", analysis_depth="extreme"),
            "analysis_depth must be one of low, medium, high",
        ),
        (
            lambda: system.customize_agent("tachibana", patience=3),
            "valid parameters: risk_tolerance",
        ),
        (
            lambda: system.add_new_capability("aikawa", "Social Media Analysis"),
            "such as social_media_analysis",
        ),
        (
            lambda: system.create_new_agent("hirose", role="technical expert!"),
            "such as technical_expert",
        ),
    ]
    for call, message in errors:
        with pytest.raises(blade_agents.BladeAgentError, match=message):
            call()
    system.set_task("How to improve team cohesion and work efficiency?")
    with pytest.raises(blade_agents.BladeAgentError, match="activate"):
        system.synthesize_solutions()


@pytest.mark.slow  # a fresh interpreter imports torch and migrates a new database
def test_the_script_runs_on_a_fresh_checkout(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        STAGEPLAY_DATA_DIR=str(tmp_path),
        STAGEPLAY_BACKEND="transformers",
        STAGEPLAY_MODEL_PATH=str(quick_chat_model()),
    )
    script = GUIDE_SCRIPT + (
        "print('FINAL', final_solution.splitlines()[0])\n"
        "print('AGENTS', ','.join(system.agents))\n"
    )
    result = subprocess.run(
        [sys.executable, "-"],
        input=script,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "FINAL Final solution for: How to improve internal communication" in (
        result.stdout
    )
    assert "AGENTS kazuki,tachibana,aikawa,mutsuki,hirose" in result.stdout
    assert (tmp_path / "stageplay.sqlite3").exists()
