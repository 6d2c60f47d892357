"""A dataset's lifecycle from Python: dry runs that write nothing, a taken name, folders and
descriptions, pushing into a dataset found by name."""

from __future__ import annotations

import pyarrow as pa
import pytest

import pushdata
from conftest import sales, stored

FOLDER = "0123456789ABCDEF0123456789ABCDEF"


def test_a_dry_run_of_a_new_dataset_plans_and_writes_nothing(client):
    plan = client.push(sales(), dataset="planned", dry_run=True, folder=FOLDER,
                       description="what it holds")
    assert plan["dry_run"] is True and plan["action"] == "create"
    assert (plan["name"], plan["folder_id"], plan["description"]) == (
        "planned", FOLDER, "what it holds")
    assert plan["rows"] == 4 and plan["chunks"] >= 1 and plan["bytes"] > 0
    assert [t["name"] for t in plan["tables"]] == ["planned"]
    assert plan["tables"][0]["policy"] == "replace"
    names = {a["name"] for a in plan["model"]["attributes"]}
    assert {"Year", "Category"} <= names
    # Nothing was created: the same name is still free in that folder.
    report = client.push(sales(), dataset="planned", folder=FOLDER)
    assert report.rows == 4


def test_a_dry_run_into_a_dataset_names_it_and_leaves_its_rows(client):
    first = client.push(sales(), dataset="kept")
    plan = client.push(sales(years=(2030,), revenue=(9.0,)), dataset_id=first.dataset_id,
                       policy="add", dry_run=True)
    assert plan["action"] == "update" and plan["dataset_id"] == first.dataset_id
    assert plan["rows"] == 1 and plan["tables"][0]["policy"] == "add"
    assert stored(client, first.dataset_id, "kept").num_rows == 4


def test_if_exists_update_pushes_into_the_dataset_of_that_name(client):
    first = client.push(sales(), dataset="by name")
    with pytest.raises(pushdata.DatasetExistsError):
        client.push(sales(), dataset="by name")
    again = client.push(sales(years=(2030,), revenue=(9.0,)), dataset="by name",
                        table="by name", if_exists="update", policy="add")
    assert again.dataset_id == first.dataset_id
    assert stored(client, first.dataset_id, "by name").num_rows == 5


def test_options_of_a_new_dataset_are_refused_with_dataset_id(client):
    first = client.push(sales(), dataset="existing")
    for options in ({"folder": FOLDER}, {"description": "x"}, {"if_exists": "update"}):
        with pytest.raises(pushdata.ConfigError):
            client.push(sales(), dataset_id=first.dataset_id, **options)
    with pytest.raises(pushdata.ConfigError):
        client.push(sales(), dataset="new", if_exists="sometimes")


def test_a_drift_is_refused_with_every_difference(client):
    first = client.push(sales(), dataset="typed")
    other = pa.table({"Year": pa.array(["x"]), "Category": ["c"], "Cost": [1.0]})
    with pytest.raises(pushdata.DefinitionDriftError) as e:
        client.push(other, dataset_id=first.dataset_id)
    # Year's type, Cost not in the dataset, Revenue not in the data.
    assert len(e.value.differences) == 3
    assert stored(client, first.dataset_id, "typed").num_rows == 4
