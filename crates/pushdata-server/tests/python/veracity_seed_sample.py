"""Veracity's own sample (seeds/002, "Upsert datasets") against the reference server's
emulation, its calls unmodified: `requests` for the token, the register and the job calls,
and Microsoft's `azure-storage-file-datalake` (`DataLakeFileClient`) for the upload. Only
the constants change: the URLs point at the local server, the credentials are the
emulation's defaults.

    python veracity_seed_sample.py BASE_URL PROJECT_ID

BASE_URL is the Push Data API's URL; the emulation listens on the same address (its
scheme and host are used). The sample updates an existing dataset, so the script first
makes one the same way (schema, Create), then runs the sample's steps 1 to 5 with Upsert,
and prints `RESULT key=value` lines for the test to check.
"""

import sys
import tempfile
import time
import uuid
from urllib.parse import urlparse

import requests
from azure.storage.filedatalake import DataLakeFileClient

root = "{0.scheme}://{0.netloc}".format(urlparse(sys.argv[1]))
base_url = root + "/veracity/dw/gateway/api/v2"
token_url = root + "/dnvglb2cprod.onmicrosoft.com/oauth2/token"
apiKey = "pushdata-veracity-key"
workspaceId = str(uuid.uuid4())


def step1_token():
    # === Step 1 of the sample, as written ===
    payload = {
        "resource": "https://dnvglb2cprod.onmicrosoft.com/83054ebf-1d7b-43f5-82ad-b2bde84d7b75",
        "grant_type": "client_credentials",
        "client_id": "pushdata-veracity-client",
        "client_secret": "pushdata-veracity-secret",
    }
    response = requests.post(token_url, data=payload)
    response.raise_for_status()
    return response.json()["access_token"]


def headers(token):
    return {
        "Content-Type": "application/json",
        "Ocp-Apim-Subscription-Key": apiKey,
        "Authorization": f"Bearer {token}",
        "User-Agent": "python-requests/2.31.0",
    }


def step3_upload(sas_uri, targetFileName, localFilePath):
    # === Step 3 of the sample, as written ===
    target_file_name = targetFileName
    sas_folder_url = sas_uri
    parsed_url = urlparse(sas_folder_url)
    account_url = f"{parsed_url.scheme}://{parsed_url.netloc}"
    file_system_name = parsed_url.path.strip("/").split("/")[0]
    folder_path = "/".join(parsed_url.path.strip("/").split("/")[1:])
    sas_token = parsed_url.query
    file_path = f"{folder_path}/{target_file_name}"
    file_client = DataLakeFileClient(
        account_url=account_url,
        file_system_name=file_system_name,
        file_path=file_path,
        credential=sas_token,
    )
    file_client.create_file()
    with open(localFilePath, "rb") as file_data:
        file_contents = file_data.read()
        file_client.append_data(data=file_contents, offset=0, length=len(file_contents))
        file_client.flush_data(len(file_contents))


def step4_start(token, job_id):
    # === Step 4 of the sample, as written ===
    url = base_url + f"/workspaces/{workspaceId}/ingest/job/{job_id}/start"
    response = requests.post(url, json=None, headers=headers(token))
    response.raise_for_status()
    return response.json()


def step5_wait(token, job_id):
    # === Step 5 of the sample: GET .../status, polled until it is finished ===
    url = base_url + f"/workspaces/{workspaceId}/ingest/job/{job_id}/status"
    for _ in range(600):
        response = requests.get(url, headers=headers(token))
        response.raise_for_status()
        result = response.json()
        if result["status"] not in ("Pending", "Running", "Started"):
            return result
        time.sleep(0.05)
    raise SystemExit(f"job {job_id} did not finish: {result}")


def csv_file(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    f.write(text)
    f.close()
    return f.name


def main():
    token = step1_token()
    targetFileName = "ImportData.csv"
    # Not in the sample: a dataset to update (schema with a key, then Create).
    r = requests.post(
        base_url + f"/workspaces/{workspaceId}/schemas/add",
        json={"name": "Turbines", "columns": [
            {"name": "Id", "type": "Int32", "isKey": True},
            {"name": "Name", "type": "String"},
            {"name": "Power", "type": "Double"},
        ]},
        headers=headers(token),
    )
    r.raise_for_status()
    version = r.json()["schemaVersions"][0]["id"]
    r = requests.post(
        base_url + f"/workspaces/{workspaceId}/ingest/dataset",
        json={"datasetName": "Turbines", "schemaVersionId": version,
              "files": [{"fileName": targetFileName, "operation": "Create"}],
              "startAutomatically": False},
        headers=headers(token),
    )
    r.raise_for_status()
    created = r.json()
    step3_upload(created["sasToken"], targetFileName,
                 csv_file("Id,Name,Power\n1,alpha,1.5\n2,beta,2.5\n"))
    step4_start(token, created["jobId"])
    done = step5_wait(token, created["jobId"])
    assert done["status"] == "Completed", done
    datasetId = done["datasetId"]

    # === Step 2 of the sample, as written (Upsert, startAutomatically False) ===
    url = base_url + f"/workspaces/{workspaceId}/ingest/dataset/{datasetId}"
    payload = {
        "files": [{"fileName": targetFileName, "operation": "Upsert"}],
        "startAutomatically": False,
    }
    response = requests.put(url, json=payload, headers=headers(token))
    response.raise_for_status()
    result = response.json()
    sas_uri = result.get("sasToken")
    update_job_id = result.get("jobId")

    step3_upload(sas_uri, targetFileName,
                 csv_file("Id,Name,Power\n2,beta,20.5\n3,gamma,3.5\n"))
    step4_start(token, update_job_id)
    status = step5_wait(token, update_job_id)
    print(f"RESULT status={status['status']}")
    print(f"RESULT validation={status.get('validationError')}")

    # Read back through the query endpoint.
    r = requests.post(
        base_url + f"/workspaces/{workspaceId}/datasets/{datasetId}/query",
        json={"pageIndex": 1, "pageSize": 100, "sorting": {"column": "Id", "order": "Ascending"}},
        headers=headers(token),
    )
    r.raise_for_status()
    rows = [f"{d['Id']}|{d['Name']}|{d['Power']}" for d in r.json()["data"]]
    print("RESULT rows=" + ",".join(rows))
    import azure.storage.filedatalake as sdk
    print(f"RESULT sdk={sdk.__version__}")


if __name__ == "__main__":
    main()
