"""pushdata from Python, cell by cell (run it whole, or paste the cells into a notebook).

    pip install ./crates/pushdata-python pandas    # from the repository root
    python examples/python/quickstart.py

Everything runs against the reference server started in this process, on a temporary data
directory: nothing else is needed.
"""

# %% A reference server and a client
import tempfile

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import pushdata

data_dir = tempfile.mkdtemp(prefix="pushdata-quickstart-")
server = pushdata.serve(data_dir)
client = pushdata.connect(server.url)  # administrator, empty password, the only project
print(server.url, client.project_id)

# %% What the push would create: numeric columns are metrics unless named attributes
sales = pa.table({
    "Year": pa.array([2023, 2023, 2024, 2024], pa.int32()),
    "Category": ["Books", "Music", "Books", "Music"],
    "Revenue": [100.5, 80.0, 120.25, 95.0],
})
model = pushdata.schema(sales, dataset="sales", attributes=["Year"])
print([a["name"] for a in model["attributes"]], [m["name"] for m in model["metrics"]])

# %% Push a pyarrow Table into a new dataset
report = client.push(sales, dataset="sales", attributes=["Year"], progress=True)
print(f"dataset {report.dataset_id}: {report.rows} rows, {report.chunks} chunk(s), "
      f"{report.bytes} bytes in {report.seconds:.2f} s")

# %% Upsert a pandas DataFrame into it: the row of (2024, Books) is replaced, 2025 added
try:
    import pandas as pd
except ImportError:
    more = pa.table({"Year": pa.array([2024, 2025], pa.int32()), "Category": ["Books", "Books"],
                     "Revenue": [130.0, 20.0]})
else:
    more = pd.DataFrame({"Year": pd.array([2024, 2025], dtype="int32"),
                         "Category": ["Books", "Books"], "Revenue": [130.0, 20.0]})
client.push(more, dataset_id=report.dataset_id, policy="upsert")

# %% Read it back: through the Cube API (grouped by the attributes read, metrics summed) ...
print(client.pull(report.dataset_id, attributes=["Year"], metrics=["Revenue"]).to_pydict())
# ... or one table's stored rows exactly
print(client.pull(report.dataset_id, table="sales"))

# %% A stream of batches, never held whole: made lazily, pushed as it comes
schema = pa.schema([("id", pa.int64()), ("value", pa.float64())])


def batches(n=20, rows=10_000):
    for i in range(n):
        ids = pa.array(range(i * rows, (i + 1) * rows), pa.int64())
        yield pa.record_batch([ids, pc.multiply(ids, 0.5)], schema=schema)


reader = pa.RecordBatchReader.from_batches(schema, batches())
streamed = client.push(reader, dataset="stream", attributes=["id"], chunk_mb=1)
print(f"streamed {streamed.rows} rows in {streamed.chunks} chunks")

# %% Parquet files: one table per file, named after the file
orders = f"{data_dir}/orders.parquet"
pq.write_table(pa.table({"order_id": [1, 2, 3], "Category": ["Books", "Music", "Books"]}), orders)
shop = client.push({"sales": sales, "orders": pa.table(pq.read_table(orders))}, dataset="shop",
                   attributes=["Year", "order_id"])
print([(t.name, t.rows) for t in shop.tables])

# %% Errors say what and where, with the server's code and ticket
try:
    client.pull("0" * 32)
except pushdata.ApiError as e:
    print(f"{type(e).__name__}: HTTP {e.status} {e.code}, ticket {e.ticket_id}")

# %% Veracity Data Workbench, against the same server's emulation
import uuid

import pushdata.veracity

vc = pushdata.veracity.connect(server, workspace=str(uuid.uuid4()))  # workspace ids are UUIDs
created = vc.push(sales, dataset="Sales", keys=["Year", "Category"])
print(vc.pull(created.dataset_id, schema_id=created.schema_id).num_rows, "rows in Veracity")

# %% Done: log out and stop the server (the data stays in data_dir)
client.close()
server.stop()
