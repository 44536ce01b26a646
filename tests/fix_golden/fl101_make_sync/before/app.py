import httpx
from fastapi import FastAPI

app = FastAPI(openapi_url=None)


@app.get("/status")
async def status() -> dict:
    # httpx's module-level get is the sync client.
    response = httpx.get("https://partner.example.com/status", timeout=2)
    return {"partner": response.text}
