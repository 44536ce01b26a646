"""Orders API."""

import asyncio
import time

from fastapi import FastAPI

app = FastAPI(openapi_url=None)


@app.get("/slow")
async def slow() -> dict:
    # Back off before retrying the partner.
    await asyncio.sleep(0.5)  # half a second
    return {"ok": True}
