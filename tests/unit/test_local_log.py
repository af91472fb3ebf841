"""The local emulator's log is rotated when a start finds it past its limit, never left to grow."""

from __future__ import annotations

from scripts.localstack import rotate_log


def test_a_log_at_its_limit_is_kept_and_one_past_it_moves_to_dot_one(tmp_path):
    log = tmp_path / "ministack.log"
    log.write_bytes(b"x" * 100)
    rotate_log(log, limit=100)
    assert log.read_bytes() == b"x" * 100
    log.write_bytes(b"y" * 101)
    rotate_log(log, limit=100)
    assert not log.exists()
    assert (tmp_path / "ministack.log.1").read_bytes() == b"y" * 101


def test_a_second_rotation_replaces_the_first_and_a_missing_log_is_fine(tmp_path):
    log = tmp_path / "ministack.log"
    rotate_log(log, limit=1)
    for text in (b"first", b"second"):
        log.write_bytes(text)
        rotate_log(log, limit=1)
    assert [p.name for p in tmp_path.iterdir()] == ["ministack.log.1"]
    assert (tmp_path / "ministack.log.1").read_bytes() == b"second"
