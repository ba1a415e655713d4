"""The playhead: stepping, playing at a speed, following a trace that is still growing."""

from __future__ import annotations

import pytest

from payviz.ui.player import MAX_SPEED, MIN_SPEED, Player
from tests.conftest import RecordedRun


@pytest.fixture
def player(direct_run: RecordedRun) -> Player:
    made = Player()
    made.append_records(direct_run.records)
    return made


def test_the_timeline_holds_only_messages(player: Player, direct_run: RecordedRun) -> None:
    assert player.messages == direct_run.messages
    assert player.position == -1
    assert player.current is None


def test_step_forward_and_back_move_one_message(qtbot, player: Player) -> None:
    with qtbot.waitSignal(player.position_changed) as moved:
        player.step_forward()
    assert moved.args == [0]
    player.step_forward()
    assert player.position == 1
    assert player.animated  # a step forward travels
    player.step_back()
    assert player.position == 0
    assert not player.animated  # going back jumps
    player.step_back()
    assert player.position == 0  # no further back than the first message


def test_jumps_restart_and_end(player: Player, direct_run: RecordedRun) -> None:
    encrypted = next(m for m in direct_run.messages if m.encrypted)
    player.go_to_seq(encrypted.seq)
    assert player.current is encrypted
    player.go_to_end()
    assert player.position == player.length - 1
    player.step_forward()
    assert player.position == player.length - 1
    player.restart()
    assert player.position == 0
    player.go_to(10_000)
    assert player.position == player.length - 1


def test_play_runs_to_the_end_and_stops(qtbot, player: Player) -> None:
    player.travel_ms, player.dwell_ms, player.grace_ms = 40, 0, 0  # no diagram: timer only
    player.set_speed(MAX_SPEED)
    seen: list[int] = []
    player.position_changed.connect(seen.append)
    with qtbot.waitSignal(player.playing_changed) as started:
        player.play()
    assert started.args == [True]
    with qtbot.waitSignal(player.playing_changed, timeout=5000) as stopped:
        pass
    assert stopped.args == [False]
    assert seen == list(range(player.length))


def test_a_token_arriving_moves_the_playhead_on(qtbot, player: Player) -> None:
    player.travel_ms, player.dwell_ms = 600_000, 10  # only the token can move it in time
    player.play()
    assert player.position == 0
    current = player.current
    assert current is not None
    player.on_token_arrived(current.seq + 1000)  # some other token: ignored
    with qtbot.waitSignal(player.position_changed, timeout=2000) as moved:
        player.on_token_arrived(current.seq)
    assert moved.args == [1]
    player.pause()


def test_playing_live_waits_for_new_messages(qtbot, direct_run: RecordedRun) -> None:
    player = Player()
    player.travel_ms, player.dwell_ms, player.grace_ms = 10, 0, 0
    player.set_live(True)
    player.play_from(0)
    assert player.playing
    assert player.position == -1  # nothing yet: it waits
    with qtbot.waitSignal(player.position_changed) as moved:
        player.append_records(direct_run.records[:3])
    assert moved.args == [0]
    qtbot.waitUntil(lambda: player.position == player.length - 1)
    assert player.playing  # still live: waiting at the end for more
    player.append_records(direct_run.records[3:])
    qtbot.waitUntil(lambda: player.position == player.length - 1, timeout=5000)
    with qtbot.waitSignal(player.playing_changed) as stopped:
        player.set_live(False)
    assert stopped.args == [False]


def test_speed_is_clamped_and_scales_durations(qtbot, player: Player) -> None:
    with qtbot.waitSignal(player.speed_changed) as changed:
        player.set_speed(2.0)
    assert changed.args == [2.0]
    assert player.interval_ms(700) == 350
    player.set_speed(100)
    assert player.speed == MAX_SPEED
    player.set_speed(0)
    assert player.speed == MIN_SPEED
    assert player.interval_ms(700) == 2800


def test_clear_empties_the_timeline(qtbot, player: Player) -> None:
    player.go_to(3)
    with qtbot.waitSignal(player.position_changed) as moved:
        player.clear()
    assert moved.args == [-1]
    assert player.length == 0
