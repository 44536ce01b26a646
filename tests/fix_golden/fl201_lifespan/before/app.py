"""Orders API."""

import logging

from fastapi import FastAPI

log = logging.getLogger(__name__)

# The application.
app = FastAPI(title="Orders", openapi_url=None, on_startup=[warm])


@app.on_event("startup")
async def connect() -> None:
    log.info("connecting")


# Flush metrics on the way out.
@app.on_event("shutdown")
def flush() -> None:
    log.info("flush")


def warm() -> None: ...


# Close the pool last.
app.add_event_handler("shutdown", connect)  # registered late on purpose
