"""The pieces the dialogs share: the expiry hint, the checks of a file to write, the
wording of a failure, the error lines, the import's memberships line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from session_tui.data.csvio import CsvFormatError
from session_tui.ui.modals.base import ErrorLine, reason
from session_tui.ui.modals.file_to_write import FileToWrite
from session_tui.ui.modals.import_csv.membership_report import (
    MembershipCounts,
    memberships_summary,
)
from session_tui.ui.modals.membership_actions import expiry_hint

NOW = datetime(2026, 3, 1, 12, 0)


def hint(text: str) -> str:
    return expiry_hint(text, NOW, never="no expiry", past="{when}: passed")


def test_expiry_hint_says_when_the_date_falls() -> None:
    assert hint("") == "no expiry"
    assert hint("never") == "no expiry"
    assert hint("2026-03-11") == "expires in 10 days"
    assert hint("2026-02-19") == "10 days ago: passed"
    assert hint("2026-13-01") == ""  # nonsense: saving says what is wrong


class Shown:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.written: list[tuple[Path, str]] = []

    def write(self, target: Path, name: str) -> None:
        self.written.append((target, name))


def checker(shown: Shown) -> FileToWrite:
    return FileToWrite(shown.messages.append, empty="Type a name.", refused="Not written")


def test_a_new_file_is_written_under_the_name_as_typed(tmp_path: Path) -> None:
    shown = Shown()
    target = tmp_path / "out.csv"
    checker(shown).submit(f"  {target}  ", shown.write, db_url="sqlite://")
    assert shown.written == [(target, str(target))]
    assert shown.messages == []


def test_an_empty_name_or_a_folder_is_refused(tmp_path: Path) -> None:
    shown = Shown()
    files = checker(shown)
    files.submit("   ", shown.write, db_url="sqlite://")
    files.submit(str(tmp_path), shown.write, db_url="sqlite://")
    assert shown.written == []
    assert shown.messages == ["Type a name.", f"{tmp_path} is a directory: type a file name."]


def test_an_existing_file_is_replaced_only_when_named_twice_in_a_row(tmp_path: Path) -> None:
    shown = Shown()
    files = checker(shown)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("x")
    second.write_text("y")
    files.submit(str(first), shown.write, db_url="sqlite://")
    files.submit(str(second), shown.write, db_url="sqlite://")
    assert shown.written == []
    files.submit(str(second), shown.write, db_url="sqlite://")
    assert shown.written == [(second, str(second))]
    assert shown.messages == [
        f"{first} exists: press enter again to replace it.",
        f"{second} exists: press enter again to replace it.",
    ]


def test_what_check_target_refuses_is_refused_with_its_reason(tmp_path: Path) -> None:
    shown = Shown()
    source = tmp_path / "in.csv"
    source.write_text("email\n")
    checker(shown).submit(str(source), shown.write, db_url="sqlite://", inputs=[str(source)])
    assert shown.written == []
    assert len(shown.messages) == 1 and shown.messages[0].startswith("Not written: ")


def test_reason_keeps_an_expected_message_and_describes_the_rest() -> None:
    assert reason(CsvFormatError("line 3: bad quote"), CsvFormatError) == "line 3: bad quote"
    assert reason(RuntimeError("first line\nsecond line")) == "first line"


def test_an_error_line_is_hidden_until_it_has_something_to_say() -> None:
    line = ErrorLine("expires_at", classes="form-hint")
    assert line.id == "expires_at-error"
    assert line.classes == frozenset({"field-error", "form-hint"})
    assert not line.display


def test_the_memberships_line_names_only_what_happened() -> None:
    assert memberships_summary(MembershipCounts()) == ""
    counts = MembershipCounts(granted=164, skipped=3, products_created=1)
    assert memberships_summary(counts) == "164 memberships granted · 3 skipped · 1 product created"
