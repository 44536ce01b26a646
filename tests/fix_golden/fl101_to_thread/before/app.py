import requests
from fastapi import FastAPI

app = FastAPI(openapi_url=None)
HEADERS = {"accept": "json"}


async def fetch_token() -> str:
    return "token"


@app.get("/rates")
async def rates(base: str) -> dict:
    token = await fetch_token()
    data = requests.get(
        "https://rates.example.com",  # the partner
        params={"base": base},
        headers={**HEADERS, "token": token},
        timeout=5,
    ).json()
    return data
