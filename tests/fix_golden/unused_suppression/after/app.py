from fastapi import FastAPI

app = FastAPI(debug=True, openapi_url=None)  # noqa: FL403
admin = FastAPI(openapi_url=None)  # the admin app is internal
x = 1
