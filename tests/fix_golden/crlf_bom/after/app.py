import asyncio
import time

from fastapi import FastAPI

app = FastAPI(openapi_url=None)


@app.get("/")
async def root() -> dict:
    await asyncio.sleep(1)
    return {}
