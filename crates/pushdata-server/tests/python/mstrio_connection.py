"""The three ways mstrio-py's users open a connection in a project, in mstrio-py's default
configuration, against the pushdata reference server.

Usage: python3 mstrio_connection.py BASE_URL PROJECT_ID

1. ``Connection(url, user, password, project_id=...)``
2. ``Connection(url, user, password, project_name='MicroStrategy Tutorial')``
3. ``Connection(url, user, password)`` then ``select_project(...)`` (by id, by name, and
   with the ``project`` argument), and back to no project with ``select_project()``.
4. The other login modes: ``login_mode=16`` (LDAP), and an API token from
   ``conn.get_api_token()`` used as ``Connection(url, api_token=..., project_id=...)``
   (login mode 4096).

Each connection checks the selected project's id and name (``conn.project_name`` loads the
project as an object) and is closed; the first also checks the project's status, alias and
that it is loaded on the cluster's node. Exits non-zero on any failure.
"""

import sys

from mstrio.server.project import Project, ProjectStatus

from mstrio.connection import Connection

from mstrio_common import PROJECT_NAME, check, connect, finish, result


def check_project(conn, project_id: str, how: str) -> None:
    check(conn.project_id == project_id, f"{how}: project_id is {conn.project_id!r}")
    check(
        conn.headers.get("X-MSTR-ProjectID") == project_id,
        f"{how}: X-MSTR-ProjectID header is {conn.headers.get('X-MSTR-ProjectID')!r}",
    )
    name = conn.project_name
    check(name == PROJECT_NAME, f"{how}: project_name is {name!r}")
    check(conn.project.id == project_id, f"{how}: project.id is {conn.project.id!r}")
    result(how, f"{conn.project_id} {name}")


def main() -> None:
    base_url, project_id = sys.argv[1], sys.argv[2]

    conn = connect(base_url, project_id=project_id)
    check_project(conn, project_id, "project_id")
    check(conn.status(), "project_id: session is not active")
    # the project as an object: its state (GET /api/projects/{id}) and the cluster's
    # nodes it is loaded on (GET /api/monitors/iServer/nodes)
    project = Project(conn, id=project_id)
    check(project.status == ProjectStatus.ACTIVE, f"project status is {project.status!r}")
    check(project.alias == "", f"project alias is {project.alias!r}")
    check(project.is_loaded(), "project is not loaded on any node")
    loaded_on = [
        n["name"]
        for n in project.nodes
        if any(p["id"] == project_id and p["status"] == "loaded" for p in n["projects"])
    ]
    check(len(loaded_on) == 1, f"project is loaded on nodes {loaded_on}")
    conn.close()

    conn = connect(base_url, project_name=PROJECT_NAME)
    check_project(conn, project_id, "project_name")
    conn.close()

    conn = connect(base_url)
    check(conn.project_id is None, f"no project: project_id is {conn.project_id!r}")
    check(not conn.has_project_selected(), "no project: a project is selected")
    check(conn.user_id, "no project: no user id")
    conn.select_project(project_id=project_id)
    check_project(conn, project_id, "select_project(project_id)")
    conn.select_project()
    check(conn.project_id is None, "select_project(): a project is still selected")
    conn.select_project(project_name=PROJECT_NAME)
    check_project(conn, project_id, "select_project(project_name)")
    conn.select_project(None)
    conn.select_project(PROJECT_NAME)
    check_project(conn, project_id, "select_project(name as project)")
    conn.select_project(None)
    conn.select_project(project_id)
    check_project(conn, project_id, "select_project(id as project)")

    try:
        conn.select_project(project_name="No Such Project")
    except ValueError:
        pass
    else:
        raise AssertionError("select_project(project_name='No Such Project') succeeded")
    check(conn.project_id == project_id, "a failed select_project changed the project")
    conn.close()

    conn = connect(base_url, project_id=project_id, login_mode=16)
    check_project(conn, project_id, "ldap")
    ldap_user = conn.user_id
    check(bool(ldap_user), "ldap: no user id")
    token = conn.get_api_token()
    check(isinstance(token, str) and len(token) >= 32, "get_api_token: no usable token")
    conn.close()
    conn = Connection(base_url, api_token=token, project_id=project_id)
    check(conn.login_mode == 4096, f"api_token: login mode is {conn.login_mode!r}")
    check_project(conn, project_id, "api_token")
    check(conn.user_id == ldap_user, f"api_token: user id {conn.user_id!r}, not {ldap_user!r}")
    conn.close()

    finish()


if __name__ == "__main__":
    main()
