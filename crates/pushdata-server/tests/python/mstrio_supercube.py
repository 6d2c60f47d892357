"""A single-table SuperCube through the unmodified mstrio-py client, in its default
configuration, against the pushdata reference server.

Usage: python3 mstrio_supercube.py BASE_URL PROJECT_ID

Creates a SuperCube from a pandas DataFrame (``replace``, with ``to_attribute`` and
``to_metric``), reads it back with ``to_dataframe()``, updates it with ``upsert`` (published
by ``update()``), then with ``add`` uploaded by ``update(auto_publish=False)`` and published
by ``publish()``, and reads it back again from a new ``SuperCube`` object. Prints
``RESULT cube_id=...`` for the Rust test, which checks the stored table too. Exits non-zero
on any failure.
"""

import sys

import pandas as pd
from mstrio.project_objects.datasets import SuperCube

from mstrio_common import check, connect, finish, result, rows

COLUMNS = ["id", "name", "value", "units"]


def main() -> None:
    base_url, project_id = sys.argv[1], sys.argv[2]
    conn = connect(base_url, project_id=project_id)

    df = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["a", "b", "c"],
            "value": [1.5, 2.5, 3.5],
            # integer-like strings: an attribute unless `to_metric` says otherwise
            "units": ["10", "20", "30"],
        }
    )
    cube = SuperCube(connection=conn, name="mstrio_cube", progress_bar=False)
    cube.add_table(
        name="items",
        data_frame=df,
        update_policy="replace",
        to_attribute=["id"],
        to_metric=["units"],
    )
    cube.create()
    cube_id = cube.id
    check(bool(cube_id), "create() gave no id")
    result("cube_id", cube_id)

    attributes = sorted(a["name"] for a in cube.attributes)
    metrics = sorted(m["name"] for m in cube.metrics)
    check(attributes == ["id", "name"], f"attributes are {attributes}")
    check(metrics == ["units", "value"], f"metrics are {metrics}")

    got = rows(cube.to_dataframe(), COLUMNS)
    want = [(1.0, "a", 1.5, 10.0), (2.0, "b", 2.5, 20.0), (3.0, "c", 3.5, 30.0)]
    check(got == want, f"after create: {got} != {want}")

    update = pd.DataFrame(
        {"id": [3, 4], "name": ["c", "d"], "value": [30.5, 40.5], "units": ["31", "41"]}
    )
    cube = SuperCube(connection=conn, id=cube_id, progress_bar=False)
    cube.add_table(
        name="items",
        data_frame=update,
        update_policy="upsert",
        to_attribute=["id"],
        to_metric=["units"],
    )
    cube.update()

    more = pd.DataFrame(
        {"id": [5], "name": ["e"], "value": [50.5], "units": ["51"]}
    )
    cube.add_table(
        name="items",
        data_frame=more,
        update_policy="add",
        to_attribute=["id"],
        to_metric=["units"],
    )
    cube.update(auto_publish=False)
    check(cube.publish() is True, "publish() did not succeed")
    check(cube.publish_status()["status"] == 1, "publish_status() is not 1 (done)")

    cube = SuperCube(connection=conn, id=cube_id, progress_bar=False)
    check(cube.name == "mstrio_cube", f"name is {cube.name!r}")
    got = rows(cube.to_dataframe(), COLUMNS)
    want = [
        (1.0, "a", 1.5, 10.0),
        (2.0, "b", 2.5, 20.0),
        (3.0, "c", 30.5, 31.0),
        (4.0, "d", 40.5, 41.0),
        (5.0, "e", 50.5, 51.0),
    ]
    check(got == want, f"after update and publish: {got} != {want}")

    conn.close()
    finish()


if __name__ == "__main__":
    main()
