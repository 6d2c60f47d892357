"""Multi-table SuperCubes through the unmodified mstrio-py client, in its default
configuration, against the pushdata reference server, following mstrio-py's own documented
workflow (``code_snippets/create_super_cube.py``): a ``Stores`` and a ``Sales`` table that
share the ``store_id`` attribute.

Usage: python3 mstrio_multitable.py BASE_URL PROJECT_ID

1. ``to_attribute`` / ``to_metric``: both tables map ``store_id`` to an attribute (one
   attribute shared by the tables, as MicroStrategy links same-named columns),
   ``sales_fmt`` (integer-like strings) to a metric;
   ``create()``, ``to_dataframe()``; then the documented update (``Stores`` with
   ``update``, ``Sales`` with ``upsert``) and ``to_dataframe()`` again.
2. ``attribute_forms``: one attribute ``store`` whose ID form is ``store_id`` of both tables
   and whose DESC form is ``location``; ``create(attribute_forms=[...])``, ``to_dataframe()``.

How a multi-table dataset is read (joined on the shared attribute, or the union of its
elements) is the server's business; the checks here only ask for the rows of the stores
present in both tables, which either way are there with these values. Prints
``RESULT ..._id=...`` lines for the Rust test. Exits non-zero on any failure.
"""

import sys

import pandas as pd
from mstrio.project_objects import (
    SuperCubeAttribute,
    SuperCubeAttributeForm,
    SuperCubeFormExpression,
)
from mstrio.project_objects.datasets import SuperCube

from mstrio_common import check, connect, finish, result, rows

STORES = pd.DataFrame(
    {
        "store_id": [1, 2, 3, 4],
        "location": ["New York", "Seattle", "Los Angeles", "Austin"],
        "area": [100, 200, 300, 400],
    }
)
SALES = pd.DataFrame(
    {
        "store_id": [1, 2, 3, 5],
        "category": ["TV", "Books", "Accessories", "Toys"],
        "sales": [400, 200, 100, 50],
        "sales_fmt": ["400", "200", "100", "50"],
    }
)
# stores 1, 2 and 3 are in both tables; 4 only in Stores, 5 only in Sales
IN_BOTH = {1.0, 2.0, 3.0}


def both(got: list[tuple]) -> list[tuple]:
    """The rows of the stores present in both tables (the first column is the store)."""
    return [r for r in got if r[0] in IN_BOTH]


def documented_workflow(conn) -> str:
    cube = SuperCube(connection=conn, name="mstrio_stores_sales", progress_bar=False)
    cube.add_table(
        name="Stores", data_frame=STORES, update_policy="add", to_attribute=["store_id"]
    )
    cube.add_table(
        name="Sales",
        data_frame=SALES,
        update_policy="add",
        to_attribute=["store_id"],
        to_metric=["sales_fmt"],
    )
    cube.create()
    cube_id = cube.id
    result("multi_id", cube_id)

    attributes = sorted(a["name"] for a in cube.attributes)
    metrics = sorted(m["name"] for m in cube.metrics)
    check(attributes == ["category", "location", "store_id"], f"attributes are {attributes}")
    check(metrics == ["area", "sales", "sales_fmt"], f"metrics are {metrics}")

    columns = ["store_id", "location", "area", "category", "sales", "sales_fmt"]
    got = both(rows(cube.to_dataframe(), columns))
    want = [
        (1.0, "New York", 100.0, "TV", 400.0, 400.0),
        (2.0, "Seattle", 200.0, "Books", 200.0, 200.0),
        (3.0, "Los Angeles", 300.0, "Accessories", 100.0, 100.0),
    ]
    check(got == want, f"after create: {got} != {want}")

    # the documented update: one table with `update`, the other with `upsert` (rows are
    # matched on their attributes: store 2's area changes, store 3's Accessories sales)
    cube = SuperCube(connection=conn, id=cube_id, progress_bar=False)
    cube.add_table(
        name="Stores",
        data_frame=pd.DataFrame({"store_id": [2], "location": ["Seattle"], "area": [250]}),
        update_policy="update",
        to_attribute=["store_id"],
    )
    cube.add_table(
        name="Sales",
        data_frame=pd.DataFrame(
            {"store_id": [3], "category": ["Accessories"], "sales": [150], "sales_fmt": ["150"]}
        ),
        update_policy="upsert",
        to_attribute=["store_id"],
        to_metric=["sales_fmt"],
    )
    cube.update()

    cube = SuperCube(connection=conn, id=cube_id, progress_bar=False)
    df = cube.to_dataframe()
    got = both(rows(df, columns))
    want = [
        (1.0, "New York", 100.0, "TV", 400.0, 400.0),
        (2.0, "Seattle", 250.0, "Books", 200.0, 200.0),
        (3.0, "Los Angeles", 300.0, "Accessories", 150.0, 150.0),
    ]
    check(got == want, f"after update: {got} != {want}")

    # one data frame per table
    frames = cube.to_dataframe(multi_df=True)
    check(len(frames) == 2, f"multi_df gave {len(frames)} frames")
    return cube_id


def attribute_forms_workflow(conn) -> str:
    store = SuperCubeAttribute(
        name="store",
        forms=[
            SuperCubeAttributeForm(
                category="ID",
                expressions=[
                    SuperCubeFormExpression(table="Stores", column="store_id"),
                    SuperCubeFormExpression(table="Sales", column="store_id"),
                ],
            ),
            SuperCubeAttributeForm(
                category="DESC",
                expressions=[SuperCubeFormExpression(table="Stores", column="location")],
            ),
        ],
    )
    cube = SuperCube(connection=conn, name="mstrio_store_forms", progress_bar=False)
    cube.add_table(name="Stores", data_frame=STORES, update_policy="add")
    cube.add_table(name="Sales", data_frame=SALES[["store_id", "category", "sales"]],
                   update_policy="add")
    cube.create(attribute_forms=[store])
    cube_id = cube.id
    result("forms_id", cube_id)

    attributes = sorted(a["name"] for a in cube.attributes)
    check(attributes == ["category", "store"], f"attributes are {attributes}")

    df = cube.to_dataframe()
    print(df.to_string(), flush=True)
    id_col = next(c for c in df.columns if c.startswith("store") and "ID" in c)
    desc_col = next(c for c in df.columns if c.startswith("store") and "DESC" in c)
    got = both(rows(df, [id_col, desc_col, "area", "category", "sales"]))
    want = [
        (1.0, "New York", 100.0, "TV", 400.0),
        (2.0, "Seattle", 200.0, "Books", 200.0),
        (3.0, "Los Angeles", 300.0, "Accessories", 100.0),
    ]
    check(got == want, f"with attribute forms: {got} != {want}")
    return cube_id


def main() -> None:
    base_url, project_id = sys.argv[1], sys.argv[2]
    conn = connect(base_url, project_name="MicroStrategy Tutorial")
    documented_workflow(conn)
    attribute_forms_workflow(conn)
    conn.close()
    finish()


if __name__ == "__main__":
    main()
