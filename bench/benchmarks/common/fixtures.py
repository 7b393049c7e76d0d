"""Databases and configuration files the rows make."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path


def make_db(path: Path, rows: int = 100) -> Path:
    """A database with a table `items` of `rows` rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("create table items (id integer primary key, value text)")
    conn.executemany("insert into items (value) values (?)", [(f"row {i}",) for i in range(rows)])
    conn.commit()
    conn.close()
    return path


def make_blobs_db(path: Path, mib: int) -> Path:
    """A database of `mib` rows of 1 MiB random blobs (table `blobs`)."""
    conn = sqlite3.connect(path)
    conn.execute("create table blobs (id integer primary key, data blob)")
    for _ in range(mib):
        conn.execute("insert into blobs (data) values (randomblob(1048576))")
    conn.commit()
    conn.close()
    return path


def commit(db: Path, n: int = 1) -> None:
    """n commits of one row each into `items`."""
    conn = sqlite3.connect(db, timeout=10)
    for _ in range(n):
        conn.execute("insert into items (value) values ('x')")
        conn.commit()
    conn.close()


def yaml_of(obj) -> str:
    # JSON is YAML, and Datasette reads either.
    return json.dumps(obj, indent=2)
