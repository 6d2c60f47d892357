"""mstrio-py's same-name check, unmodified and in its default configuration, against the
pushdata reference server.

Usage: python3 mstrio_same_name.py BASE_URL PROJECT_ID

``SuperCube.create()`` first lists the folder it creates in (``GET
/api/folders/preDefined/20`` for My Reports, ``Folder(conn, id=...)`` then ``GET
/api/folders/{id}`` for a folder) and refuses with a ``ValueError`` when an object of the
cube's name is there. This script creates a cube in My Reports and one in a folder, checks
that a second cube of each name is refused in the same folder and accepted in the other,
and prints ``RESULT`` lines with the ids for the Rust test. Exits non-zero on any failure.
"""

import sys

import pandas as pd
from mstrio.object_management import Folder
from mstrio.project_objects.datasets import SuperCube

from mstrio_common import check, connect, finish, result

FOLDER_ID = "0123456789ABCDEF0123456789ABCDEF"


def cube(conn, name: str, value: float) -> SuperCube:
    c = SuperCube(connection=conn, name=name, progress_bar=False)
    df = pd.DataFrame({"id": [1, 2], "value": [value, value + 1]})
    c.add_table(name="t", data_frame=df, update_policy="replace", to_attribute=["id"])
    return c


def refused(c: SuperCube, folder_id=None) -> str:
    """The message of the ValueError `create()` raises for a name already in the folder."""
    try:
        c.create(folder_id=folder_id)
    except ValueError as e:
        return str(e)
    raise AssertionError(f"create() of a second {c.name!r} in {folder_id} was not refused")


def main() -> None:
    base_url, project_id = sys.argv[1], sys.argv[2]
    conn = connect(base_url, project_id=project_id)

    mine = cube(conn, "same name", 1.0)
    mine.create()
    result("my_reports_id", mine.id)
    msg = refused(cube(conn, "same name", 10.0))
    check("already exist" in msg and "My Reports" in msg, f"refusal: {msg}")

    folder = Folder(conn, id=FOLDER_ID)
    check(folder.id == FOLDER_ID, f"folder id is {folder.id}")
    check(folder.get_contents() == [], "a new folder is not empty")

    # the name is taken in My Reports only: the folder accepts it, then refuses a second
    there = cube(conn, "same name", 20.0)
    there.create(folder_id=FOLDER_ID)
    result("folder_cube_id", there.id)
    contents = folder.get_contents(to_dictionary=True)
    check([c["id"] for c in contents] == [there.id], f"folder holds {contents}")
    msg = refused(cube(conn, "same name", 30.0), FOLDER_ID)
    check("already exist" in msg and FOLDER_ID in msg, f"refusal: {msg}")

    conn.close()
    finish()


if __name__ == "__main__":
    main()
