"""Deploy front end: shell/Procfile command parsing, Gunicorn config reader, deployment model."""
