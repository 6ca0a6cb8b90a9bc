"""The whole-library JSON export reads back into an identical library."""
from sqlmodel import SQLModel

from importers import library_json
from kb import db as kbdb
from kb.library import draft as kblib
from kb.library import versions


def test_export_import_export_is_identical(library, tmp_path):
    first = versions.export_library(library, versions.resolve(library))
    engine = kbdb.make_engine(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    SQLModel.metadata.create_all(engine)
    with kbdb.session(engine) as other:
        batch = library_json.read_document(first)
        report = kblib.apply_batch(other, batch)
        assert report.total("added") == sum(len(first[k]) for k in versions.EXPORT_KEYS.values())
        versions.publish(other, "2024.1")
        second = versions.export_library(other, versions.resolve(other))
    for key in versions.EXPORT_KEYS.values():
        assert first[key] == second[key], key
