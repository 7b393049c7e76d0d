"""A test plugin (loaded with `datasette serve --plugins-dir`) that writes the way
plugins do, without naming the request: POST /-/test-write?value=V inserts V into
x's items table with `db.execute_write(sql, params)` and answers 201."""

from datasette import hookimpl
from datasette.utils.asgi import Response


async def write(datasette, request):
    value = request.args.get("value", "")
    await datasette.get_database("x").execute_write("insert into items (value) values (?)", [value])
    return Response.json({"ok": True, "value": value}, status=201)


@hookimpl
def register_routes():
    return [(r"^/-/test-write$", write)]
