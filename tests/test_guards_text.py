"""Issue 13, items 9 and 12: one bad byte does not garble a UTF-8 file; UTF-32 is
read as UTF-32; emails and names are NFC everywhere (import, edit, add
membership), with fullwidth handled as docs/decisions.md says."""

from __future__ import annotations

import codecs
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import select

from session_tui.cli import main
from session_tui.data.csvio import Verdict, import_csv, sniff
from session_tui.data.db import Database
from session_tui.data.editing import EMAIL_TAKEN, update_contact
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.tables import contact_t
from session_tui.data.validation import ValidationError, clean_email, normalize_email
from tests.helpers import add_contacts, add_product

NFC_JOSE = unicodedata.normalize("NFC", "josé@example.org")
NFD_JOSE = unicodedata.normalize("NFD", "josé@example.org")


def people(db: Database) -> list[tuple[str, str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(contact_t.c.email, contact_t.c.first_name, contact_t.c.last_name).order_by(
                contact_t.c.id
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


# -- item 9: a few bad bytes ------------------------------------------------------------


def garbled_tail(tmp_path: Path, rows: int = 2000) -> Path:
    body = "".join(f"j{i}@example.org,Jürgen,Müller-Ñoño\n" for i in range(rows - 1))
    data = ("email,first_name,last_name\n" + body).encode("utf-8")
    data += b"bad@example.org,J\x81\x8drgen,M\xc3\xbcller\n"
    path = tmp_path / "names.csv"
    path.write_bytes(data)
    return path


def test_a_few_bad_bytes_keep_the_file_utf8_and_reject_only_their_row(
    db: Database, tmp_path: Path
) -> None:
    source = garbled_tail(tmp_path)
    layout = sniff(source)
    assert layout.encoding_name == "UTF-8"
    assert "2 of its" in layout.encoding_reason and "not valid UTF-8" in layout.encoding_reason
    rejects = tmp_path / "rejects.csv"
    report = import_csv(db, layout, rejects=rejects, problem_rows=10)
    assert (report.added, report.invalid) == (1999, 1)
    stored = people(db)
    assert len(stored) == 1999
    assert {(first, last) for _, first, last in stored} == {("Jürgen", "Müller-Ñoño")}
    bad = [r for r in report.rows if r.verdict is Verdict.INVALID]
    assert [(r.line, r.reason) for r in bad] == [(2001, "not valid UTF-8 (byte 0x81 at column 2)")]
    written = rejects.read_bytes()
    assert b"bad@example.org,J\x81\x8drgen,M\xc3\xbcller," in written  # the raw bytes


def test_cli_summary_says_why_the_encoding_was_chosen(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    source = garbled_tail(tmp_path, rows=10)
    assert main(["import", str(source), "--db", sqlite_url, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "encoding: UTF-8 (2 of its" in out and "the rows holding them are invalid" in out
    assert "line 11: not valid UTF-8 (byte 0x81 at column 2)" in out


def test_a_mostly_cp1252_file_still_falls_back(tmp_path: Path) -> None:
    source = tmp_path / "win.csv"
    source.write_bytes("email,first_name\nr@x.org,Renée\nm@x.org,Muñoz\n".encode("cp1252"))
    layout = sniff(source)
    assert layout.encoding == "cp1252"
    assert "2 of its 2 non-ASCII bytes are not valid UTF-8" in layout.encoding_reason


# -- item 12: UTF-32 --------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_utf32_with_a_bom_is_read_as_utf32(db: Database, tmp_path: Path, codec: str) -> None:
    bom = codecs.BOM_UTF32_LE if codec.endswith("le") else codecs.BOM_UTF32_BE
    source = tmp_path / "u32.csv"
    source.write_bytes(bom + "email,first_name\nzoë@example.org,Zoë\n".encode(codec))
    layout = sniff(source)
    assert layout.encoding_name == "UTF-32"
    report = import_csv(db, layout)
    assert report.added == 1
    assert people(db) == [("zoë@example.org", "Zoë", "")]


# -- item 12: NFC everywhere, fullwidth -------------------------------------------------


def test_clean_email_is_nfc_and_folds_a_fullwidth_domain() -> None:
    assert clean_email(NFD_JOSE) == NFC_JOSE
    assert clean_email("Full@ｅｘａｍｐｌｅ．ｏｒｇ") == "full@example.org"
    with pytest.raises(ValidationError, match=r"fullwidth.*did you mean full@example\.org"):
        normalize_email("ｆｕｌｌ@example.org")


def test_import_treats_nfc_and_nfd_as_one_address(db: Database, tmp_path: Path) -> None:
    source = tmp_path / "jose.csv"
    nfd_name = unicodedata.normalize("NFD", "José")
    source.write_text(
        f"email,first_name\n{NFD_JOSE},{nfd_name}\n{NFC_JOSE},José\nｆｕｌｌ@example.org,F\n",
        encoding="utf-8",
    )
    report = import_csv(db, source)
    assert (report.added, report.duplicates, report.invalid) == (1, 1, 1)
    assert people(db) == [(NFC_JOSE, "José", "")]
    again = tmp_path / "again.csv"
    again.write_text(f"email\n{NFD_JOSE}\n", encoding="utf-8")
    assert import_csv(db, again).skipped == 1


def test_edit_and_add_membership_use_the_same_normalisation(db: Database) -> None:
    [jose, other] = add_contacts(db, [(NFC_JOSE, "José", ""), ("o@example.org", "O", "")])
    with pytest.raises(ValidationError) as taken:
        update_contact(db, other, 1, "O", "", NFD_JOSE)
    assert taken.value.message == EMAIL_TAKEN
    saved = update_contact(db, jose, 1, unicodedata.normalize("NFD", "Zoë"), "", NFD_JOSE)
    assert (saved.email, saved.first_name) == (NFC_JOSE, "Zoë")
    add_product(db, "Course")
    MembershipsRepository(db).grant(NFD_JOSE, "Course", "paid")
    assert len(people(db)) == 2  # the NFD email found the existing contact
    MembershipsRepository(db).grant("new@ｅｘａｍｐｌｅ．ｏｒｇ", "Course", "free")
    assert people(db)[-1][0] == "new@example.org"
