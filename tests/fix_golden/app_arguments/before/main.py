from fastapi import FastAPI

DEBUG = True

app = FastAPI(
    title="Orders",
    debug=DEBUG,
    # Hides Swagger UI and ReDoc, but /openapi.json is still served.
    docs_url=None,
    redoc_url=None,
)
admin = FastAPI(title="Admin", debug=True)
