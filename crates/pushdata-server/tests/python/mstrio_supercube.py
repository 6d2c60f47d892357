"""Drive the pushdata reference server with the unmodified mstrio-py client.

Usage: python3 mstrio_supercube.py BASE_URL PROJECT_ID

Creates a SuperCube from a pandas DataFrame (replace), updates it (upsert), publishes,
and prints the cube id on the last line of stdout. Exits non-zero on any failure.
"""

import sys

import pandas as pd
from mstrio import config
from mstrio.connection import Connection
from mstrio.project_objects.datasets import SuperCube

config.verbose = False


def main() -> None:
    base_url, project_id = sys.argv[1], sys.argv[2]
    conn = Connection(
        base_url=base_url,
        username="administrator",
        password="",
        project_id=project_id,
        login_mode=1,
    )

    df = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["a", "b", "c"],
            "value": [1.5, 2.5, 3.5],
        }
    )
    cube = SuperCube(connection=conn, name="mstrio_cube", progress_bar=False)
    cube.add_table(
        name="items",
        data_frame=df,
        update_policy="replace",
        to_attribute=["id"],
    )
    cube.create()
    cube_id = cube.id

    update = pd.DataFrame(
        {
            "id": [3, 4],
            "name": ["c", "d"],
            "value": [30.5, 40.5],
        }
    )
    cube = SuperCube(connection=conn, id=cube_id, progress_bar=False)
    cube.add_table(
        name="items",
        data_frame=update,
        update_policy="upsert",
        to_attribute=["id"],
    )
    cube.update()

    conn.close()
    print(cube_id)


if __name__ == "__main__":
    main()
