import time

from fastapi import FastAPI

app = FastAPI(openapi_url=None)


@app.get("/")
async def root() -> dict:
    time.sleep(1)
    return {}
