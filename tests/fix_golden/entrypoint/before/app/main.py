from fastapi import FastAPI

app = FastAPI(openapi_url=None)
