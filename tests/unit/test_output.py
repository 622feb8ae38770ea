"""The one writer: names are identifiers, writes stay inside the output directory, a run's
files land atomically with a manifest."""

import json
import os

import pytest

from accelscope.output import (
    MANIFEST,
    OutputError,
    RunOutput,
    check_name,
    default_dir,
    is_name,
    read_manifest,
    slug,
    write_file,
)


@pytest.mark.parametrize("name", ["spots", "dcnn-opt", "eyeriss-256-os-a", "a_b.c", "_x",
                                  "7nm", "x" * 64])
def test_names_accepted(name):
    assert is_name(name) and check_name(name, "here") == name


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "x/../../y", "/abs", "a/b", "a\\b",
                                  "x\x00y", ".hidden", "-flag", "x" * 65, "x" * 300,
                                  "my[/b]arch", "a b", "C:evil", "é"])
def test_names_refused_with_location(name):
    assert not is_name(name)
    with pytest.raises(OutputError, match=r"^spec.yaml: name: .* is not a valid name"):
        check_name(name, "spec.yaml: name")


def test_slug_makes_default_names_safe():
    assert slug("my model (v2)") == "my_model__v2_"
    assert slug("../../etc") == "_.._etc"
    assert is_name(slug("../../etc")) and is_name(slug("x" * 300)) and slug("") == "model"


def test_default_dir_refuses_unsafe_parts(tmp_path):
    assert default_dir("compare", "resnet18") == default_dir("compare", "resnet18", base="out")
    with pytest.raises(OutputError):
        default_dir("compare", "../x")


@pytest.mark.parametrize("rel", ["../x.json", "/etc/x.json", "a/../../x", "", "a/..",
                                 "x\x00.json"])
def test_run_output_refuses_paths_that_leave_the_directory(tmp_path, rel):
    with RunOutput(tmp_path / "o") as o, pytest.raises(OutputError):
        o.path(rel)


def test_run_output_writes_atomically_with_manifest(tmp_path):
    root = tmp_path / "run"
    with RunOutput(root, command="accelscope run tiny", meta={"k": 1}) as o:
        o.write_text("results.json", '{"a": 1}')
        o.write_text("spots/results.csv", "x\n1\n")
        assert not root.exists()  # nothing visible until the block ends
    assert sorted(p.name for p in root.iterdir()) == [MANIFEST, "results.json", "spots"]
    m = read_manifest(root)
    assert m["complete"] is True and m["command"] == "accelscope run tiny"
    assert [f["path"] for f in m["files"]] == ["results.json", "spots/results.csv"]
    assert m["files"][0]["bytes"] == 8 and len(m["files"][0]["sha256"]) == 64
    assert o.files == [root / "results.json", root / "spots" / "results.csv"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


def test_interrupted_run_keeps_previous_output(tmp_path):
    root = tmp_path / "run"
    with RunOutput(root) as o:
        o.write_text("results.json", "old")
    with pytest.raises(KeyboardInterrupt), RunOutput(root) as o:
        o.write_text("results.json", "new")
        raise KeyboardInterrupt
    assert (root / "results.json").read_text() == "old"
    read_manifest(root)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    with RunOutput(root) as o:  # a rerun replaces the whole directory, stale files included
        o.write_text("other.json", "new")
    assert sorted(p.name for p in root.iterdir()) == [MANIFEST, "other.json"]


def test_interrupted_first_run_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), RunOutput(tmp_path / "run") as o:
        o.write_text("results.json", "x")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_foreign_directory_is_never_replaced(tmp_path):
    (tmp_path / "mine.txt").write_text("precious")
    with pytest.raises(OutputError, match=r"not empty and holds no accelscope manifest\.json"):
        RunOutput(tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "precious"
    empty = tmp_path / "empty"
    empty.mkdir()
    with RunOutput(empty) as o:
        o.write_text("a.json", "{}")
    assert (empty / "a.json").exists()


def test_bad_locations_refused_before_work(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputError, match="exists and is not a directory"):
        RunOutput(f)
    with pytest.raises(OutputError, match="is a file, so the directory cannot be created"):
        RunOutput(f / "sub" / "dir")
    with pytest.raises(OutputError, match="NUL"):
        RunOutput(str(tmp_path / "a\x00b"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_location_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="is not writable"):
            RunOutput(ro / "run")
    finally:
        ro.chmod(0o700)


def test_reader_refuses_incomplete_or_changed_directories(tmp_path):
    with pytest.raises(OutputError, match=r"no manifest\.json"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({"complete": False, "files": []}))
    with pytest.raises(OutputError, match="did not complete"):
        read_manifest(tmp_path)
    root = tmp_path / "r"
    with RunOutput(root) as o:
        o.write_text("a.json", "{}")
    (root / "a.json").write_text("{} ")
    with pytest.raises(OutputError, match="missing or changed"):
        read_manifest(root)


def test_write_file_is_atomic_and_checked(tmp_path):
    p = write_file(tmp_path / "d" / "x.json", "{}")
    assert p.read_text() == "{}"
    with pytest.raises(OutputError, match="is a directory"):
        write_file(tmp_path / "d", "{}", "--json")
    assert sorted(q.name for q in (tmp_path / "d").iterdir()) == ["x.json"]


def test_output_of_an_earlier_version_is_replaced_but_nothing_else(tmp_path):
    old = tmp_path / "compare-tiny"
    (old / "spots").mkdir(parents=True)
    for f in ("compare.csv", "compare.png", "spots/results.json", "spots/results.csv"):
        (old / f).write_text("old")
    with RunOutput(old) as o:  # written before manifests existed: ours, replaced
        o.write_text("compare.csv", "new")
    assert sorted(p.name for p in old.iterdir()) == ["compare.csv", MANIFEST]
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "results.json").write_text("old")
    (mixed / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="holds no accelscope"):
        RunOutput(mixed)
    nested = tmp_path / "nested"
    (nested / "spots").mkdir(parents=True)
    (nested / "spots" / "thesis.tex").write_text("mine")
    with pytest.raises(OutputError, match="holds no accelscope"):
        RunOutput(nested)
