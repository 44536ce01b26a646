"""Orders API."""

from contextlib import asynccontextmanager
import logging

from fastapi import FastAPI

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI):
    warm()
    await connect()
    yield
    flush()
    await connect()


# The application.
app = FastAPI(title="Orders", openapi_url=None, lifespan=lifespan)


async def connect() -> None:
    log.info("connecting")


# Flush metrics on the way out.
def flush() -> None:
    log.info("flush")


def warm() -> None: ...


# Close the pool last.
# registered late on purpose
