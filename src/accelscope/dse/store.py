"""The results store of a sweep: one SQLite database in WAL mode (``store.sqlite`` in the
store directory), written by one process.

* ``results``: one row per (design point, network), keyed by ``row_key`` (a hash of the
  resolved spec, the workload options, the network and the accelscope version): every swept
  parameter as a column (its dotted path; lists as JSON text), the workload options, the
  spec figures (``macs_per_cycle``, ``on_chip_bytes``, ``clock_hz``, ``area_mm2``), the
  totals (``cycles``, ``seconds``, ``total_energy_pj``, ``dram_bits``, ``edp_pj_s``,
  ``energy_pj.<part>``, ``stall_cycles.<cause>``, ...), ``status`` (ok, error, infeasible),
  ``feasible``, ``error`` (the located error text), ``eval_s``, ``worker``;
* ``layers``: per-layer rows (``row_key``, ``idx``, ``layer``, ...) of sweeps run with
  ``layers=True`` (``--layers``);
* ``meta``: the store format and the spaces swept into it.

Each finished row is one transaction (``INSERT OR IGNORE`` on its key, its layer rows with
it): a process killed at any moment leaves every committed row intact and none half-written,
and a rerun skips the keys already there. Columns are added as new parameters and result
fields appear.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accelscope.errors import InputFileError
from accelscope.output import OutputError, write_file

if TYPE_CHECKING:
    import pandas as pd

STORE_FILE = "store.sqlite"
STORE_FORMAT = 1
LAYER_COLUMNS = ("idx", "layer", "kind", "model", "cycles", "seconds", "macs", "macs_issued",
                 "macs_useful", "utilization", "total_energy_pj", "dram_bits")
_FIXED = ("row_key", "point_key", "seq", "space", "sampler", "base", "network", "status",
          "feasible", "error")


class StoreError(InputFileError):
    """A store path cannot be used or read."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def store_file(path: str | os.PathLike[str]) -> Path:
    """The database of a store given as its directory or its ``store.sqlite``."""
    p = Path(path)
    return p if p.suffix == ".sqlite" else p / STORE_FILE


class Store:
    """An open results store (``open_store``)."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = False):
        self.file = store_file(path)
        self.root = self.file.parent
        if not create and not self.file.is_file():
            raise StoreError(f"{path}: no results store here (no {STORE_FILE}); give the "
                             "directory a sweep wrote (accelscope sweep SPACE --out DIR)")
        if create:
            self._check_new(Path(path))
        try:
            self._db = sqlite3.connect(self.file, timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._setup()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.file}: not a readable results store ({exc}); give "
                             "another --out directory") from None
        self._columns = self._table_columns("results")

    def _check_new(self, path: Path) -> None:
        root = self.root
        if root.exists() and not root.is_dir():
            raise OutputError(f"--out {path}: exists and is not a directory; give a "
                              "directory for the store")
        if root.is_dir() and not self.file.is_file() and any(
                p.name != STORE_FILE and not p.name.startswith(STORE_FILE)
                for p in root.iterdir()):
            raise OutputError(f"--out {path}: exists, is not empty and holds no "
                              f"{STORE_FILE}; give a new or empty directory, or a store "
                              "directory to resume")
        root.mkdir(parents=True, exist_ok=True)
        if not os.access(root, os.W_OK | os.X_OK):
            raise OutputError(f"--out {path}: not writable; choose a directory you can "
                              "write to")

    def _setup(self) -> None:
        db = self._db
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        fmt = db.execute("SELECT value FROM meta WHERE key='format'").fetchone()
        if fmt is None:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (str(STORE_FORMAT),))
        elif int(fmt[0]) > STORE_FORMAT:
            raise StoreError(f"{self.file}: store format {fmt[0]} is newer than this "
                             f"accelscope reads ({STORE_FORMAT}); upgrade accelscope")
        cols = ", ".join(f"{_q(c)}" + (" TEXT PRIMARY KEY" if c == "row_key" else "")
                         for c in _FIXED)
        db.execute(f"CREATE TABLE IF NOT EXISTS results ({cols})")
        db.execute("CREATE INDEX IF NOT EXISTS results_space ON results (space, seq)")
        lcols = ", ".join(_q(c) for c in LAYER_COLUMNS)
        db.execute(f"CREATE TABLE IF NOT EXISTS layers (row_key TEXT, {lcols}, "
                   "PRIMARY KEY (row_key, idx))")

    def _table_columns(self, table: str) -> list[str]:
        return [r[1] for r in self._db.execute(f"PRAGMA table_info({table})")]

    # -- writing --
    def record_space(self, name: str, source: Mapping[str, Any]) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                         (f"space:{name}", json.dumps(source, sort_keys=True)))

    def add(self, row: Mapping[str, Any], *, replace: bool = False) -> bool:
        """Commit one row (and its ``_layers``) in one transaction; False when its key was
        already there (nothing written) unless ``replace``."""
        row = dict(row)
        layers = row.pop("_layers", None)
        new = [c for c in row if c not in self._columns]
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for c in new:
                db.execute(f"ALTER TABLE results ADD COLUMN {_q(c)}")
            self._columns += new
            names = list(row)
            verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
            cur = db.execute(f"{verb} INTO results ({', '.join(map(_q, names))}) VALUES "
                             f"({', '.join('?' * len(names))})",
                             [_sql(row[c]) for c in names])
            written = cur.rowcount > 0
            if written and layers:
                db.execute("DELETE FROM layers WHERE row_key = ?", (row["row_key"],))
                db.executemany(
                    f"INSERT INTO layers (row_key, {', '.join(map(_q, LAYER_COLUMNS))}) "
                    f"VALUES ({', '.join('?' * (len(LAYER_COLUMNS) + 1))})",
                    [[row["row_key"], *(_sql(x[c]) for c in LAYER_COLUMNS)] for x in layers])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return written

    # -- reading --
    def done(self) -> dict[str, tuple[str, int]]:
        """``row_key -> (status, layers_stored)`` of every row."""
        cols = self._table_columns("results")
        ls = "layers_stored" if "layers_stored" in cols else "0"
        return {k: (s, int(n or 0)) for k, s, n in
                self._db.execute(f"SELECT row_key, status, {ls} FROM results")}

    def rows_of(self, point_key: str) -> list[dict[str, Any]]:
        """The rows of one design point (one per network)."""
        cur = self._db.execute("SELECT * FROM results WHERE point_key = ?", (point_key,))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur]

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def spaces(self) -> dict[str, Any]:
        return {k.removeprefix("space:"): json.loads(v) for k, v in
                self._db.execute("SELECT key, value FROM meta WHERE key LIKE 'space:%'")}

    def to_dataframe(self, space: str | None = None) -> pd.DataFrame:
        """Every row (of ``space`` when given), in the order of the points, as a DataFrame."""
        import pandas as pd

        where, args = ("WHERE space = ?", (space,)) if space else ("", ())
        df = pd.read_sql_query(f"SELECT * FROM results {where} ORDER BY seq, network",
                               self._db, params=args)
        df.attrs["tied"] = tied_groups(self.spaces())  # a tied axis' name -> its columns
        return df

    def layers_dataframe(self) -> pd.DataFrame:
        """The per-layer rows with their point's base, network and parameters."""
        import pandas as pd

        return pd.read_sql_query("SELECT r.base, r.network, r.point, l.* FROM layers l JOIN "
                                 "results r USING (row_key) ORDER BY r.seq, r.network, l.idx",
                                 self._db)

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write the results table to ``path`` (``.csv`` or ``.parquet``), atomically."""
        p = Path(path)
        df = self.to_dataframe()
        if p.suffix == ".csv":
            return write_file(p, df.to_csv(index=False), "--export")
        if p.suffix == ".parquet":
            import io

            buf = io.BytesIO()
            df.to_parquet(buf, index=False)
            return write_file(p, buf.getvalue(), "--export")
        raise StoreError(f"--export {path}: give a .csv or .parquet file name")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.file)!r}: {len(self)} rows)"


def tied_groups(spaces: Mapping[str, Any]) -> dict[str, list[str]]:
    """Tied axis name -> its dotted paths, from the recorded space sources (shared and
    per-base axes): the store has one column per path, the ``point`` one key per axis."""
    out: dict[str, list[str]] = {}
    for source in spaces.values():
        bases = source.get("base") or []
        axes_sets = [source.get("axes") or {}] + [
            b.get("axes") or {} for b in (bases if isinstance(bases, list) else [bases])
            if isinstance(b, Mapping)]
        for axes in axes_sets:
            for name, spec in axes.items():
                if isinstance(spec, Mapping) and isinstance(spec.get("tied"), Mapping):
                    out.setdefault(name, [p for p in spec["tied"] if isinstance(p, str)])
    return out


def _sql(v: Any) -> Any:
    if v is None or isinstance(v, int | float | str):
        return v
    return json.dumps(v)


def open_store(path: str | os.PathLike[str]) -> Store:
    """An existing results store (its directory or its ``store.sqlite``)."""
    return Store(path)


def add_rows(store: Store, rows: Iterable[Mapping[str, Any]]) -> int:
    return sum(store.add(r) for r in rows)


__all__: Sequence[str] = ["STORE_FILE", "Store", "StoreError", "add_rows", "open_store",
                          "store_file"]
