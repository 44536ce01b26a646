from fastapi import FastAPI

app = FastAPI(debug=True, openapi_url=None)  # noqa: FL401, FL403
admin = FastAPI(openapi_url=None)  # noqa: FL403  # the admin app is internal
# fastlint: ignore[FL101]
x = 1
