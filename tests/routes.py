"""The API's routes by access: the data routes need the API key when deployed, the others not."""

DATA_ROUTES = {
    "/unicorns",
    "/unicorns/{name}",
    "/unicorns/{name}/summaries",
    "/alerts",
    "/trips",
    "/taxi/peaks",
    "/taxi/fares",
    "/taxi/zones",
    "/taxi/alerts",
}
OPEN_ROUTES = {"/", "/static/{name}", "/health"}
