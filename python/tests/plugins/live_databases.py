"""A test plugin (loaded with `datasette serve --plugins-dir`) that attaches and
detaches databases while Datasette runs, the way plugins such as
datasette-upload-dbs do: through datasette.add_database / remove_database.

GET /-/test-databases/add?name=NAME&path=PATH attaches a file as NAME;
GET /-/test-databases/remove?name=NAME detaches it. Both answer with the names
now attached. With LIVE_DATABASES_ADD_LATER=NAME=PATH in the environment, a
task started by the startup hook attaches that file LIVE_DATABASES_ADD_AFTER
seconds (default 1) after start-up, without any request."""

import asyncio
import os

from datasette import hookimpl
from datasette.database import Database
from datasette.utils.asgi import Response


def _attached(datasette):
    return Response.json({"databases": list(datasette.databases)})


async def add_database(datasette, request):
    name, path = request.args.get("name"), request.args.get("path")
    if not name or not path:
        return Response.json({"error": "name and path are required"}, status=400)
    datasette.add_database(Database(datasette, path=path, is_mutable=True), name=name)
    return _attached(datasette)


async def remove_database(datasette, request):
    name = request.args.get("name")
    if name not in datasette.databases:
        return Response.json({"error": f"no database {name!r}"}, status=404)
    datasette.remove_database(name)
    return _attached(datasette)


@hookimpl
def register_routes():
    return [
        (r"^/-/test-databases/add$", add_database),
        (r"^/-/test-databases/remove$", remove_database),
    ]


_later = []  # keeps the task referenced until it is done


@hookimpl
def startup(datasette):
    spec = os.environ.get("LIVE_DATABASES_ADD_LATER")
    if not spec:
        return
    name, path = spec.split("=", 1)
    delay = float(os.environ.get("LIVE_DATABASES_ADD_AFTER", "1"))

    async def add_later():
        await asyncio.sleep(delay)
        datasette.add_database(Database(datasette, path=path, is_mutable=True), name=name)

    _later.append(asyncio.get_running_loop().create_task(add_later()))
