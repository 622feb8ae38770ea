"""Every file accelscope writes goes through this module.

Two rules hold for every write:

* **Containment.** Names that come from input files (arch spec names, SCALE-Sim run names,
  ONNX file stems) are identifiers, never paths: ``check_name`` refuses anything but letters,
  digits, ``_``, ``-`` and ``.`` (not leading), at most 64 characters. A run's files are
  addressed relative to its output directory and ``RunOutput.path`` refuses any relative path
  that would leave it (``..``, absolute paths, NUL).
* **Atomicity.** A run's files are staged in a hidden sibling directory and moved into place
  in one rename, with ``manifest.json`` (files, sizes, SHA-256, command, ``complete: true``)
  written last. An interrupted run leaves the previous complete output, or nothing. A
  directory that exists, is not empty and has no accelscope manifest is never replaced: the
  user chose another directory by mistake, and its files are theirs.

Single-file outputs (``lower --json FILE``, a plot path) are written to a temporary file
beside the target and renamed over it (``write_file``).

The output location is checked before any work starts (``RunOutput`` does it in its
constructor), so a bad ``--out`` fails in milliseconds, not after the evaluation.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from accelscope.errors import AccelscopeError

MANIFEST = "manifest.json"
MANIFEST_SCHEMA = 1
NAME_MAX = 64
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$"
_NAME_RE = re.compile(NAME_PATTERN)
NAME_RULE = ("letters, digits, '_', '-' and '.', not starting with '.' or '-', at most "
             f"{NAME_MAX} characters")


class OutputError(AccelscopeError):
    """An output location cannot be used, or a name from an input file is not an identifier."""


def is_name(text: object) -> bool:
    """Whether ``text`` is a safe identifier (see ``NAME_RULE``)."""
    return isinstance(text, str) and _NAME_RE.fullmatch(text) is not None


def check_name(text: str, where: str) -> str:
    """``text`` if it is a safe identifier, else an ``OutputError`` that names ``where`` it
    came from (``"arch.yaml: name"``, ``"scale.cfg: [general] run_name"``)."""
    if not is_name(text):
        shown = repr(text) if len(text) <= 80 else repr(text[:77]) + "..."
        raise OutputError(f"{where}: {shown} is not a valid name; a name is used in output "
                          f"paths and must be {NAME_RULE}")
    return text


def slug(text: str) -> str:
    """A name made from free text for a *default* path (an ONNX file's stem, a zoo name):
    every character outside the name alphabet becomes ``_``. Names the user set in a spec
    are checked with ``check_name`` instead, never rewritten."""
    out = re.sub(r"[^A-Za-z0-9_.\-]", "_", text).lstrip(".-")[:NAME_MAX]
    return out or "model"


def default_dir(*parts: str, base: str | Path = "out") -> Path:
    """``out/PART1-PART2...`` for commands run without ``--out``; every part must be a name."""
    for p in parts:
        check_name(p, "output directory name part")
    return Path(base) / "-".join(parts)


def _check_location(path: Path, flag: str, *, directory: bool) -> None:
    """Refuse, before any work, an output location that cannot be written."""
    if "\x00" in str(path):
        raise OutputError(f"{flag} {str(path)!r}: contains a NUL byte; give a plain path")
    kind = "directory" if directory else "file"
    if path.exists():
        if directory and not path.is_dir():
            raise OutputError(f"{flag} {path}: exists and is not a directory; give a "
                              "directory (new or empty) for the results")
        if not directory and path.is_dir():
            raise OutputError(f"{flag} {path}: is a directory; give a file path, e.g. "
                              f"{path / 'out.json'}")
    # the nearest existing ancestor must be a writable directory
    probe = path.parent if not path.exists() or not directory else path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputError(f"{flag} {path}: {probe} is a file, so the {kind} cannot be "
                          "created under it; choose another path")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"{flag} {path}: {probe} is not writable; choose a {kind} you can "
                          "write to")


def _permissions(path: Path, mode: int) -> None:
    """Give a file made by ``tempfile`` (private, 0600/0700) the mode a plain ``open`` would
    have given it under the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _safe_relative(rel: str | Path) -> PurePosixPath:
    text = str(rel)
    p = PurePosixPath(text.replace(os.sep, "/"))
    if (not text or "\x00" in text or p.is_absolute() or any(part in ("..", "")
                                                              for part in p.parts)
            or Path(text).is_absolute() or Path(text).drive):
        raise OutputError(f"output file {text!r}: must be a relative path inside the output "
                          "directory (no '..', no absolute path)")
    for part in p.parts:
        if part != "." and not is_name(part):
            check_name(part, "output file name")
    return p


# What accelscope versions before the manifest wrote into an output directory: such a
# directory (these names only, in it or one level down) is replaced like one with a manifest.
_OLDER_FILES = frozenset({
    "results.json", "results.csv", "layers.png", "compare.csv", "compare.png",
    "density_sweep.csv", "density_sweep.png", "dct_accuracy.csv", "dct_accuracy.png",
    "COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv"})


def _older_output(root: Path) -> bool:
    """Whether ``root`` holds only files an earlier accelscope wrote (no file of the user's)."""
    for p in root.iterdir():
        if p.is_symlink():
            return False
        if p.is_dir():
            if not all(q.is_file() and not q.is_symlink() and q.name in _OLDER_FILES
                       for q in p.iterdir()):
                return False
        elif p.name not in _OLDER_FILES:
            return False
    return True


class RunOutput:
    """The files of one run, written atomically into ``root``.

    ::

        with RunOutput(out, command="accelscope run tiny --arch spots") as o:
            o.write_text("results.json", result.to_json())
            plot_network(result, o.path("layers.png"))
        o.files  # final paths, after the rename

    Leaving the ``with`` block by an exception (or Ctrl-C) discards everything staged and
    leaves ``root`` as it was.
    """

    def __init__(self, root: str | Path, *, command: str = "", flag: str = "--out",
                 meta: dict[str, Any] | None = None):
        self.root = Path(root)
        self.command = command
        now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        self.started_utc = now.isoformat().replace("+00:00", "Z")
        """When the run began (the output is made at a command's start), ISO 8601 UTC."""
        self.meta = dict(meta or {})
        _check_location(self.root, flag, directory=True)
        if self.root.is_dir() and any(self.root.iterdir()) and not (
                (self.root / MANIFEST).is_file() or _older_output(self.root)):
            raise OutputError(f"{flag} {self.root}: exists, is not empty and holds no "
                              f"accelscope {MANIFEST}; accelscope replaces only its own "
                              "output directories, so give a new or empty directory")
        self._stage: Path | None = None
        self._written: list[PurePosixPath] = []
        self.files: list[Path] = []

    # -- staging ----------------------------------------------------------------------------
    def __enter__(self) -> RunOutput:
        parent = self.root.parent
        parent.mkdir(parents=True, exist_ok=True)
        self._stage = Path(tempfile.mkdtemp(prefix=f".{self.root.name}.partial-", dir=parent))
        _permissions(self._stage, 0o777)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        stage, self._stage = self._stage, None
        if stage is None:
            return
        if exc_type is not None:
            shutil.rmtree(stage, ignore_errors=True)
            return
        try:
            self._commit(stage)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise

    @property
    def staging(self) -> Path:
        if self._stage is None:
            raise RuntimeError("RunOutput is used outside its 'with' block")
        return self._stage

    def path(self, rel: str | Path) -> Path:
        """Where to write ``rel`` (relative, inside the output directory) while staging;
        its parent directories are created."""
        p = _safe_relative(rel)
        target = self.staging.joinpath(*p.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if p not in self._written:
            self._written.append(p)
        return target

    def write_text(self, rel: str | Path, text: str) -> Path:
        target = self.path(rel)
        target.write_text(text, encoding="utf-8")
        return target

    def write_bytes(self, rel: str | Path, data: bytes) -> Path:
        target = self.path(rel)
        target.write_bytes(data)
        return target

    # -- commit -----------------------------------------------------------------------------
    def _commit(self, stage: Path) -> None:
        entries: list[dict[str, Any]] = []
        for rel in self._written:
            f = stage.joinpath(*rel.parts)
            if f.is_file():
                entries.append({"path": str(rel), "bytes": f.stat().st_size,
                                "sha256": _sha256(f)})
        manifest = {"schema": MANIFEST_SCHEMA, "complete": True, "command": self.command,
                    "files": entries, **({"meta": self.meta} if self.meta else {})}
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        old = None
        if self.root.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.root.name}.old-",
                                        dir=self.root.parent))
            old.rmdir()
            os.replace(self.root, old)
        try:
            os.replace(stage, self.root)
        except BaseException:
            if old is not None:
                os.replace(old, self.root)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self.files = [self.root.joinpath(*Path(e["path"]).parts) for e in entries]


def read_manifest(root: str | Path) -> dict[str, Any]:
    """The manifest of a complete accelscope output directory; an ``OutputError`` for a
    directory without one (an interrupted or foreign directory) or whose files changed."""
    root = Path(root)
    f = root / MANIFEST
    if not f.is_file():
        raise OutputError(f"{root}: no {MANIFEST}; not a complete accelscope output "
                          "directory (an interrupted run leaves none), run the command again")
    try:
        manifest = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputError(f"{f}: unreadable manifest ({exc}); run the command again") from None
    if not isinstance(manifest, dict) or manifest.get("complete") is not True:
        raise OutputError(f"{f}: the run did not complete; run the command again")
    for e in manifest.get("files", []):
        p = root.joinpath(*_safe_relative(e["path"]).parts)
        if not p.is_file() or p.stat().st_size != e["bytes"]:
            raise OutputError(f"{root}: {e['path']} is missing or changed since the run "
                              "wrote it; run the command again")
    return manifest


def check_file_target(path: str | Path, flag: str) -> Path:
    """Refuse, before any work, a single-file output path that cannot be written."""
    path = Path(path)
    _check_location(path, flag, directory=False)
    return path


def write_file(path: str | Path, data: str | bytes, flag: str = "output") -> Path:
    """Write one file atomically (temporary file beside it, then rename)."""
    path = check_file_target(path, flag)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        _permissions(Path(tmp), 0o666)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_target(path: str | Path, flag: str = "output") -> _AtomicTarget:
    """A context manager yielding a temporary path beside ``path`` for a writer that needs a
    file name (e.g. matplotlib's ``savefig``); renamed over ``path`` on success."""
    return _AtomicTarget(check_file_target(path, flag))


class _AtomicTarget:
    def __init__(self, path: Path):
        self.path = path
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=self.path.suffix,
                                   dir=self.path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self.tmp is not None
        if exc_type is None:
            _permissions(self.tmp, 0o666)
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)
