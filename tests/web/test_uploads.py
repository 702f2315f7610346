import zipfile

import pytest

from crystaldos.web.uploads import (
    UploadError,
    check_structure_name,
    extract_zip,
    paste_suffix,
    safe_name,
    write_limited,
)

CIF = "data_x\n"


def test_safe_name_keeps_only_a_plain_base_name() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\me\\NaCl.cif") == "NaCl.cif"
    assert safe_name("Na Cl (1).cif") == "Na_Cl__1_.cif"
    for bad in ("", "..", "dir/", "/"):
        with pytest.raises(UploadError, match="not a usable file name"):
            safe_name(bad)


def test_structure_names_and_paste_formats() -> None:
    check_structure_name("POSCAR")
    check_structure_name("x.cif.gz")
    with pytest.raises(UploadError, match="unknown structure format"):
        check_structure_name("notes.txt")
    assert paste_suffix("data_NaCl\n_cell_length_a 5.6") == ".cif"
    assert paste_suffix("2\nLattice=\"...\"\nSi 0 0 0\n") == ".extxyz"
    assert paste_suffix("Si\n1.0\n0 2.7 2.7\n") == ".vasp"
    assert paste_suffix("anything", "poscar") == ".vasp"
    with pytest.raises(UploadError, match="empty"):
        paste_suffix("  \n")


def test_write_limited_stops_and_removes_an_oversized_file(tmp_path) -> None:
    path = tmp_path / "big.cif"
    with pytest.raises(UploadError, match=r"larger than the 1e-05 MB limit"):
        write_limited([b"x" * 8, b"y" * 8], path, 10, "big.cif")
    assert not path.exists()
    with pytest.raises(UploadError, match="empty"):
        write_limited([], tmp_path / "empty.cif", 10, "empty.cif")


def test_zip_members_never_leave_the_target(tmp_path) -> None:
    archive = tmp_path / "in.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../evil.cif", CIF)
        zf.writestr("/abs/path/evil.cif", CIF)  # same base name: numbered, not overwritten
        zf.writestr("sub/dir/Si.vasp", "Si")
        zf.writestr("readme.txt", "not a structure")
        zf.writestr("empty.cif", "")
        zf.writestr(".hidden.cif", CIF)
    target = tmp_path / "jobs" / "inputs"
    written = extract_zip(archive, target, limit_bytes=10_000)
    assert sorted(p.name for p in written) == ["Si.vasp", "evil-1.cif", "evil.cif"]
    assert all(p.parent == target for p in written)
    assert sorted(p.name for p in tmp_path.rglob("*.cif")) == ["evil-1.cif", "evil.cif"]


def test_zip_bombs_and_junk_are_refused_before_writing(tmp_path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("huge.cif", "0" * 2_000_000)
    target = tmp_path / "out"
    with pytest.raises(UploadError, match=r"unpacks to 2\.0 MB, over the 1 MB limit"):
        extract_zip(archive, target, limit_bytes=1_000_000)
    assert not target.exists()
    (tmp_path / "fake.zip").write_text("not a zip")
    with pytest.raises(UploadError, match="not a readable zip archive"):
        extract_zip(tmp_path / "fake.zip", target, limit_bytes=1_000_000)
    with zipfile.ZipFile(tmp_path / "txt.zip", "w") as zf:
        zf.writestr("a.txt", "x")
    with pytest.raises(UploadError, match="no structure files"):
        extract_zip(tmp_path / "txt.zip", target, limit_bytes=1_000_000)
